"""The OpenAPI 3 description of /api/v1 (served at /api/v1/openapi.json; a test validates real
responses against it, so it stays true)."""

from __future__ import annotations

from typing import Any

_NUM = {"type": ["number", "null"]}
_COUNT = {"oneOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERRORS = {
    "400": _error("A parameter is missing or wrong"),
    "401": _error("No token, or a revoked or expired one"),
    "403": _error("Outside the token's scope"),
    "429": _error("Too many requests for this token (see Retry-After)"),
}
_NOT_MODIFIED = {"description": "The client's copy (If-None-Match) is current"}


def _param(name: str, description: str, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


_ANALYTICS_PARAMS = [
    _param("indicator", "Indicator code, e.g. MNI-02 (see /indicators)", True),
    _param("org_unit", "Org-unit code: PY, a region PY-1, a district 0101, a facility", True),
    _param("period", "202409, 2024Q3, 2024, 202401:202406, LAST_12_MONTHS", True),
    _param(
        "by",
        "Break down by child units or time",
        enum=["region", "district", "facility", "month", "quarter", "year"],
    ),
    _param("type", "Facility types, comma-separated: USF,PS,CS,HD,HR,HG,HE"),
    _param("lang", "Language of messages and names", enum=["es", "en"]),
]


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MSPBS health performance dashboard: read API",
            "version": "1.0.0",
            "description": (
                "Indicators of Paraguay's Ministry of Health (MSPBS) by org unit and period. "
                "Authenticate with a personal access token: `Authorization: Bearer dsh_…` "
                "(`python -m dashboard tokens create EMAIL`). A token sees its account's scope "
                "only. Responses carry an ETag; send it back in If-None-Match to get 304."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": {
            "/analytics": {
                "get": {
                    "summary": "An indicator for an org unit and period (as `query --format json`)",
                    "parameters": [
                        *_ANALYTICS_PARAMS,
                        _param("format", "json (default) or csv", enum=["json", "csv"]),
                    ],
                    "responses": {
                        "200": {
                            "description": "One row per unit and period",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Row"},
                                    }
                                },
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        "304": _NOT_MODIFIED,
                        **_ERRORS,
                    },
                }
            },
            "/analytics.fhir": {
                "get": {
                    "summary": "The same as a FHIR R4 Bundle of MeasureReport (type summary)",
                    "parameters": _ANALYTICS_PARAMS,
                    "responses": {
                        "200": {
                            "description": "Bundle (type collection) of MeasureReport",
                            "content": {
                                "application/fhir+json": {
                                    "schema": {"$ref": "#/components/schemas/Bundle"}
                                }
                            },
                        },
                        "304": _NOT_MODIFIED,
                        **_ERRORS,
                    },
                }
            },
            "/indicators": {
                "get": {
                    "summary": "The indicator catalogue",
                    "parameters": [_param("lang", "Language of names", enum=["es", "en"])],
                    "responses": {
                        "200": {
                            "description": "Every indicator",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Indicator"},
                                    }
                                }
                            },
                        },
                        "304": _NOT_MODIFIED,
                        "401": _ERRORS["401"],
                        "429": _ERRORS["429"],
                    },
                }
            },
            "/org-units": {
                "get": {
                    "summary": "Org units within the token's scope",
                    "parameters": [
                        _param(
                            "level",
                            "Only this level",
                            enum=["country", "region", "district", "facility"],
                        ),
                        _param("parent", "Only units under this code"),
                    ],
                    "responses": {
                        "200": {
                            "description": "Org units, by level then code",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/OrgUnit"},
                                    }
                                }
                            },
                        },
                        "304": _NOT_MODIFIED,
                        **_ERRORS,
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "401": _ERRORS["401"],
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "additionalProperties": False,
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                },
                "Row": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": [
                        "indicator",
                        "org_unit",
                        "org_unit_name",
                        "level",
                        "period",
                        "numerator",
                        "denominator",
                        "value",
                        "status",
                        "quality",
                    ],
                    "properties": {
                        "indicator": {"type": "string"},
                        "org_unit": {"type": "string"},
                        "org_unit_name": {"type": "string"},
                        "level": {
                            "type": "string",
                            "enum": ["country", "region", "district", "facility"],
                        },
                        "period": {"type": "string"},
                        "numerator": _COUNT,
                        "denominator": _COUNT,
                        "value": _NUM,
                        "expected_reports": {"type": "integer"},
                        "received_reports": {"type": "integer"},
                        "completeness": _NUM,
                        "timeliness": _NUM,
                        "facilities_reporting": {"type": "integer"},
                        "target": _NUM,
                        "status": {"type": "string"},
                        "quality": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Indicator": {
                    "type": "object",
                    "required": ["code", "name", "numerator", "denominator", "factor"],
                    "properties": {
                        "code": {"type": "string"},
                        "domain": {"type": "string"},
                        "name": {"type": "string"},
                        "definition": {"type": "string"},
                        "numerator": {"type": "string"},
                        "denominator": {"type": "string"},
                        "factor": {"type": "number"},
                        "unit": {"type": "string"},
                        "decimals": {"type": "integer"},
                        "direction": {"type": "string", "enum": ["up", "down", "band"]},
                        "facility_types": {"type": "array", "items": {"type": "string"}},
                        "target": _NUM,
                        "near": _NUM,
                        "band_low": _NUM,
                        "band_high": _NUM,
                        "target_source": {"type": ["string", "null"]},
                    },
                },
                "OrgUnit": {
                    "type": "object",
                    "required": ["code", "name", "level", "parent"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "level": {
                            "type": "string",
                            "enum": ["country", "region", "district", "facility"],
                        },
                        "parent": {"type": ["string", "null"]},
                        "facility_type": {"type": ["string", "null"]},
                        "latitude": _NUM,
                        "longitude": _NUM,
                    },
                },
                "Bundle": {
                    "type": "object",
                    "required": ["resourceType", "type", "entry"],
                    "properties": {
                        "resourceType": {"const": "Bundle"},
                        "type": {"const": "collection"},
                        "timestamp": {"type": "string"},
                        "entry": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["fullUrl", "resource"],
                                "properties": {
                                    "fullUrl": {"type": "string"},
                                    "resource": {"$ref": "#/components/schemas/MeasureReport"},
                                },
                            },
                        },
                    },
                },
                "MeasureReport": {
                    "type": "object",
                    "required": ["resourceType", "status", "type", "measure", "period"],
                    "properties": {
                        "resourceType": {"const": "MeasureReport"},
                        "status": {"enum": ["complete", "pending", "error"]},
                        "type": {
                            "enum": ["individual", "subject-list", "summary", "data-collection"]
                        },
                        "measure": {"type": "string"},
                        "subject": {"type": "object"},
                        "period": {
                            "type": "object",
                            "required": ["start", "end"],
                            "properties": {
                                "start": {"type": "string"},
                                "end": {"type": "string"},
                            },
                        },
                        "group": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }
