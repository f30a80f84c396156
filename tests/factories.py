"""Synthetic test data with valid check characters: never a real person's or company's number."""

from __future__ import annotations

from datetime import date

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_RIC_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # ISO 7064 MOD 11-2


def ric_check_digit(first17: str) -> str:
    """The 18th character of a resident ID number (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _RIC_WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id_number(
    birth: date = date(1985, 6, 15), region: str = "120102", sequence: int = 123
) -> str:
    """An 18-character resident ID number; 120102 is Tianjin's Hedong district."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + ric_check_digit(first17)


def uscc_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015)."""
    total = sum(
        _USCC_ALPHABET.index(char) * weight
        for char, weight in zip(first17, _USCC_WEIGHTS, strict=True)
    )
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(seed: int = 1) -> str:
    """A company code (9 = market regulator, 1 = enterprise) registered in Hedong, Tianjin."""
    first17 = f"91120102{seed:09d}"
    return first17 + uscc_check_character(first17)


def make_mobile(n: int = 0) -> str:
    """13900000000, 13900000001 …: a plausible range that tests never call."""
    return f"1390000{n:04d}"


def make_card_number(n: int = 0, prefix: str = "621700") -> str:
    """A synthetic 19-digit card number with a valid Luhn check digit (no real card)."""
    from stdnum import luhn

    body = f"{prefix}{n:012d}"
    return body + luhn.calc_check_digit(body)


# The tests' encryption key (synthetic, never used for real data).
TEST_KEY = "dGVzdC1rZXktdW5pb24tYm90LW5vdC1mb3ItcmVhbC0="
