"""Numbers, units, ranges and skin types as a clinician says them aloud.

``1064 nm`` -> "ten sixty-four nanometers", ``3-5 days`` -> "three to five days",
``Fitzpatrick IV–VI`` -> "Fitzpatrick four to six", ``12 J/cm²`` -> "twelve joules per square
centimeter", ``June 1st`` -> "June first". Plain functions on strings; nothing here fails on odd input.
"""

from __future__ import annotations

import re

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}

# Longest spellings first, so "mJ/cm²" wins over "mJ". Values: (singular, plural).
UNITS: dict[str, tuple[str, str]] = {
    "J/cm²": ("joule per square centimeter", "joules per square centimeter"),
    "J/cm2": ("joule per square centimeter", "joules per square centimeter"),
    "mJ/cm²": ("millijoule per square centimeter", "millijoules per square centimeter"),
    "W/cm²": ("watt per square centimeter", "watts per square centimeter"),
    "mg/kg": ("milligram per kilogram", "milligrams per kilogram"),
    "mg/mL": ("milligram per milliliter", "milligrams per milliliter"),
    "mg/ml": ("milligram per milliliter", "milligrams per milliliter"),
    "nm": ("nanometer", "nanometers"), "µm": ("micrometer", "micrometers"), "um": ("micrometer", "micrometers"),
    "mm": ("millimeter", "millimeters"), "cm": ("centimeter", "centimeters"),
    "cm²": ("square centimeter", "square centimeters"), "mJ": ("millijoule", "millijoules"),
    "J": ("joule", "joules"), "ms": ("millisecond", "milliseconds"), "ns": ("nanosecond", "nanoseconds"),
    "ps": ("picosecond", "picoseconds"), "µs": ("microsecond", "microseconds"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"), "h": ("hour", "hours"), "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"), "s": ("second", "seconds"), "sec": ("second", "seconds"),
    "mL": ("milliliter", "milliliters"), "ml": ("milliliter", "milliliters"), "cc": ("cc", "cc"),
    "mg": ("milligram", "milligrams"), "g": ("gram", "grams"), "kg": ("kilogram", "kilograms"),
    "U": ("unit", "units"), "IU": ("international unit", "international units"), "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"), "W": ("watt", "watts"),
    "°C": ("degree Celsius", "degrees Celsius"), "%": ("percent", "percent"), "G": ("gauge", "gauge"),
    "x": ("times", "times"),
}
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_NUMBER = r"\d+(?:[.,]\d+)?"
_DASH = r"\s*(?:-|–|—|to)\s*"
_RANGE_WITH_UNIT = re.compile(rf"(?<![\w.])({_NUMBER}){_DASH}({_NUMBER})\s?({_UNIT_ALT})(?![\w/²])")
_VALUE_WITH_UNIT = re.compile(rf"(?<![\w.])({_NUMBER})(\s|-)?({_UNIT_ALT})(?![\w/²])")
_RANGE = re.compile(rf"(?<![\w.])({_NUMBER})(?:-|–|—)({_NUMBER})(?![\w.])")
_ROMAN_RANGE = re.compile(r"\b(Fitzpatrick|types?|phototypes?|skin types?)(\s+)(VI|IV|V|III|II|I)"
                          r"(?:\s*(?:-|–|—|to)\s*(VI|IV|V|III|II|I))?\b", re.I)
_BARE_NUMBER = re.compile(rf"(?<![\w.]){_NUMBER}(?![\w])")
_ORDINAL = re.compile(r"(?<![\w.])(\d+)(?:st|nd|rd|th)\b")
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                  "nine": "ninth", "twelve": "twelfth"}


def say_integer(n: int) -> str:
    """0..999,999,999 in words ("one hundred and" is not said: clinicians say "one hundred five")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            head, rest = divmod(n, size)
            return f"{say_integer(head)} {name}" + (f" {say_integer(rest)}" if rest else "")
    return str(n)


def say_ordinal(n: int) -> str:
    """3 -> "third", 22 -> "twenty-second", 40 -> "fortieth"."""
    words = say_integer(n)
    head, sep, last = words.rpartition("-") if "-" in words.split()[-1] else words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def say_number(text: str, *, paired: bool = False) -> str:
    """"1.5" -> "one point five"; with ``paired`` a four-digit value is said in pairs, as
    wavelengths are ("1064" -> "ten sixty-four")."""
    text = text.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", text) else text.replace(",", ".")
    whole, _, fraction = text.partition(".")
    n = int(whole)
    if paired and 100 < n < 10000 and n % 100:
        head, tail = divmod(n, 100)
        spoken = f"{say_integer(head)} {'oh ' + _ONES[tail] if tail < 10 else say_integer(tail)}"
    else:
        spoken = say_integer(n)
    if fraction:
        spoken += " point " + " ".join(_ONES[int(d)] for d in fraction)
    return spoken


def _unit(value: str, unit: str) -> str:
    singular, plural = UNITS[unit]
    return singular if value in ("1", "1.0") else plural


def _say_value_unit(match: re.Match) -> str:
    value, joint, unit = match.groups()
    # "a 755-nm laser": a hyphenated unit is an adjective, said in the singular.
    said = UNITS[unit][0] if joint == "-" else _unit(value, unit)
    return f"{say_number(value, paired=unit == 'nm')} {said}"


def _say_range_unit(match: re.Match) -> str:
    low, high, unit = match.groups()
    paired = unit == "nm"
    return f"{say_number(low, paired=paired)} to {say_number(high, paired=paired)} {_unit(high, unit)}"


def _say_roman(match: re.Match) -> str:
    word, space, low, high = match.groups()
    spoken = f"{word}{space}{_ONES[_ROMAN[low.upper()]]}"
    return spoken + (f" to {_ONES[_ROMAN[high.upper()]]}" if high else "")


def expand_numbers(text: str) -> str:
    """Skin types, values with units, ranges and bare numbers said in words."""
    text = _ROMAN_RANGE.sub(_say_roman, text)
    text = _RANGE_WITH_UNIT.sub(_say_range_unit, text)
    text = _VALUE_WITH_UNIT.sub(_say_value_unit, text)
    text = _RANGE.sub(lambda m: f"{say_number(m.group(1))} to {say_number(m.group(2))}", text)
    text = _ORDINAL.sub(lambda m: say_ordinal(int(m.group(1))), text)
    return _BARE_NUMBER.sub(lambda m: say_number(m.group(0), paired=_is_year(m.group(0))), text)


def _is_year(value: str) -> bool:
    return value.isdigit() and (1900 <= int(value) < 2000 or 2010 <= int(value) < 2100)
