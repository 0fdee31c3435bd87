"""Adapters for the outside systems the hub acts in (issue 16): HTTP ports, Toss Payments, 도로명주소."""
