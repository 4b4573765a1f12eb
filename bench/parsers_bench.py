"""Cost per call of parse_value / parse_range / parse_flag / parse_date on 10,000 realistic mixed tokens."""

import random
import timeit

from parsers.dates import parse_date
from parsers.flags import parse_flag
from parsers.ranges import looks_like_range, parse_range
from parsers.types import NumberStyle
from parsers.values import parse_value, split_value_flag

random.seed(7)
VALUE_TOKENS = [
    "15.00",
    "6,73",
    "140",
    "4.0",
    "0.90",
    "<0.1",
    "< 0.1",
    ">90",
    "1,234",
    "12,345.6",
    "2,12,000",
    "Negative",
    "Non-reactive",
    "mg/dL",
    "H",
    "12-20",
    "Page 1",
    "15/02/25",
    "327,01",
    "9.480",
    "≥ 60",
    "-2.5",
    "(5.2)",
    "Hemoglobin",
    "g/dL",
    "41H",
    "150.00",
    "2023",
    "Positivo",
    "x10^3/μl",
    "13.00 - 17.00",
    "0.550",
    "1 234",
    "Not detected",
    "%",
    "Trace",
    "1.2E3",
    "thou/mm3",
    "8.00",
    "L",
]
RANGE_TOKENS = [
    "13.00 - 17.00",
    "(135-145)",
    "(< 21)",
    "<0.3",
    ">40.00",
    "4,00 - 9,50",
    "0 - 73",
    "4 - 11.3",
    "[ 8.5 - 13.3 ]",
    "Up to 40",
    "< OR = 39",
    "Male: 10-50; Female: 7-35",
    "Negative",
    "Not Estab.",
    "0-1 y: 10-30; 1-18 y: 15-40; >18 y: 7-55",
    "15.00",
    "mg/dL",
    "Hemoglobin",
    "15/02/2025",
    "3.5 bis 5.0",
    "40,0 a 80,0",
    "M 10-50 F 7-35",
    "0.550 - 4.780",
    "--",
    "140",
]
FLAG_TOKENS = ["H", "L", "*", "High", "Low-Critical", "Normal", "Hemoglobin", "15.0", "mg/dL", "↑", "HH", ""]
DATE_TOKENS = [
    "14/5/2023",
    "15/02/25",
    "2025-02-15T08:43",
    "15-Feb-2025",
    "Feb 15, 2025",
    "8/02/26",
    "15 de fevereiro de 2025",
    "Hemoglobin",
    "15.00",
    "mg/dL",
]


def per_call(fn, tokens, n=10_000, **kw):
    items = [random.choice(tokens) for _ in range(n)]

    def run():
        for t in items:
            fn(t, **kw)

    best = min(timeit.repeat(run, number=1, repeat=5))
    return best / n * 1e6


print(f"parse_value UNKNOWN   {per_call(parse_value, VALUE_TOKENS):6.2f} us/call")
print(f"parse_value DOT       {per_call(parse_value, VALUE_TOKENS, style=NumberStyle.DOT):6.2f} us/call")
print(f"parse_value ocr=True  {per_call(parse_value, VALUE_TOKENS, ocr=True):6.2f} us/call")
print(f"split_value_flag      {per_call(split_value_flag, VALUE_TOKENS):6.2f} us/call")
print(f"parse_range           {per_call(parse_range, RANGE_TOKENS):6.2f} us/call")
print(f"parse_range sex/age   {per_call(parse_range, RANGE_TOKENS, sex='male', age_years=40):6.2f} us/call")
print(f"looks_like_range      {per_call(looks_like_range, RANGE_TOKENS + VALUE_TOKENS):6.2f} us/call")
print(f"parse_flag            {per_call(parse_flag, FLAG_TOKENS):6.2f} us/call")
print(f"parse_date            {per_call(parse_date, DATE_TOKENS):6.2f} us/call")
