"""The API's one pagination: limit/offset with bounds the database can take."""

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

# A page is at most this long: a client asking for more gets this many (and the next link).
MAX_LIMIT = 200
# PostgreSQL's OFFSET is a bigint: ?offset=10**22 answered 500 there (found by schemathesis). Any
# offset past this is past the end of every list this API serves, so it is clamped, not refused.
MAX_OFFSET = 2**31 - 1


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_offset(self, request: Request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
