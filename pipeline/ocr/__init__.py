"""The OCR side: scanned pages, faxes and photos in, the same words-with-boxes as the text layer out.

Entry points (import them from their modules; this package imports nothing heavy on its own):
`raster.render_pdf_page`, `raster.open_image_pages` / `open_image_page` / `count_image_pages`,
`page.ocr_page` (PageImage -> PageWords), `page.read_page` (the same plus diagnostics),
`page.ocr_source_page` / `read_source_page` (picklable, for a process pool), `page.recognise_region`
(re-read a row), `engine.default_engine` / `fallback_engine`, and `recorded.RecordedEngine` / `Recorder`
for tests. Stages: `prepare` (image clean-up), `geometry` (crop, scale, skew, turns), `languages`,
`fallback` + `merge` (the second engine), `crossread` (numbers and units read again by the second
engine, disputes settled by a third reading), `tesseract` and `rapidocr` (the engines).
"""
