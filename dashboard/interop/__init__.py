"""Interoperability: FHIR MeasureReport and ADX vocabularies, measure maps and data exports."""
