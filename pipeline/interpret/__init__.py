"""Interpretation engine: one patient's results over time -> timelines, trends, scores, findings.

Public entry point: ``interpret(observations, patient) -> Interpretation`` (see ``engine``); the models are
in ``models``; ``observations_from_document`` (``adapt``) builds observations from an extracted Document.
"""

from __future__ import annotations

from .adapt import observations_from_document
from .engine import interpret
from .models import Interpretation, Observation, PatientInfo

__all__ = ["Interpretation", "Observation", "PatientInfo", "interpret", "observations_from_document"]
