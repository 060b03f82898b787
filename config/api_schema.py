"""OpenAPI schema generation: component names for the nested Input/OutputSerializer convention.

Every API declares ``class OutputSerializer`` inside its view, so the default names ("Output")
collide. Nested serializers are named after their enclosing view instead:
``CurriculumListApi.OutputSerializer`` -> ``CurriculumListOutput``.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import Direction
from rest_framework import serializers


def _strip_suffix(name: str) -> str:
    for suffix in ("Serializer", "Api"):
        if name.endswith(suffix) and name != suffix:
            return name[: -len(suffix)]
    return name


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer: serializers.Serializer, direction: Direction) -> str:
        qualname = type(serializer).__qualname__
        if "." not in qualname or "<locals>" in qualname:
            return super().get_serializer_name(serializer, direction)
        return "".join(_strip_suffix(part) for part in qualname.split("."))
