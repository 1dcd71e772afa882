"""The standard's code lists for envelope problems, as named constants.

Three lists are used by the reader:

* element I18, the TA1 interchange note code (TA105), ``"000"``–``"031"``;
* element 716, the functional group error code (AK905–AK909 in a 997, IK9 in a 999);
* element 718, the transaction set error code (AK502–AK506, IK502–IK506); the reader only
  produces the envelope-level ones (duplicate ST02, ST03/GS08 mismatch); the set validator
  produces the rest.

Each ``*_TEXT`` table maps a code to the standard's wording, so a report or an acknowledgement
can show it without an if-chain.

Reports use the current code lists. Where a code means something else in an older release the
acknowledgement translates by the group's version: AK9 code 19 "functional group control number
not unique within interchange" exists from 004050 on; in 004010-004040 code 19 is "S1E Security
End Segment Missing" and no code names a duplicate GS06, so a 997 for such a group reports the
duplicate only by rejecting the group (AK901 ``R`` without that code), see
:func:`ak9_code_defined`.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = [
    "TA1_NO_ERROR",
    "TA1_CONTROL_NUMBER_MISMATCH",
    "TA1_STANDARD_NOT_SUPPORTED",
    "TA1_VERSION_NOT_SUPPORTED",
    "TA1_INVALID_SEGMENT_TERMINATOR",
    "TA1_INVALID_SENDER_QUALIFIER",
    "TA1_INVALID_SENDER_ID",
    "TA1_INVALID_RECEIVER_QUALIFIER",
    "TA1_INVALID_RECEIVER_ID",
    "TA1_UNKNOWN_RECEIVER_ID",
    "TA1_INVALID_AUTHORIZATION_QUALIFIER",
    "TA1_INVALID_AUTHORIZATION_VALUE",
    "TA1_INVALID_SECURITY_QUALIFIER",
    "TA1_INVALID_SECURITY_VALUE",
    "TA1_INVALID_DATE",
    "TA1_INVALID_TIME",
    "TA1_INVALID_STANDARDS_ID",
    "TA1_INVALID_VERSION",
    "TA1_INVALID_CONTROL_NUMBER",
    "TA1_INVALID_ACK_REQUESTED",
    "TA1_INVALID_TEST_INDICATOR",
    "TA1_INVALID_GROUP_COUNT",
    "TA1_INVALID_CONTROL_STRUCTURE",
    "TA1_PREMATURE_END_OF_FILE",
    "TA1_INVALID_CONTENT",
    "TA1_DUPLICATE_CONTROL_NUMBER",
    "TA1_INVALID_ELEMENT_SEPARATOR",
    "TA1_INVALID_COMPONENT_SEPARATOR",
    "TA1_INVALID_DELIVERY_DATE",
    "TA1_INVALID_DELIVERY_TIME",
    "TA1_INVALID_DELIVERY_TIME_CODE",
    "TA1_INVALID_GRADE_OF_SERVICE",
    "TA1_TEXT",
    "AK9_GROUP_NOT_SUPPORTED",
    "AK9_VERSION_NOT_SUPPORTED",
    "AK9_TRAILER_MISSING",
    "AK9_CONTROL_NUMBER_MISMATCH",
    "AK9_SET_COUNT_MISMATCH",
    "AK9_CONTROL_NUMBER_SYNTAX",
    "AK9_DUPLICATE_CONTROL_NUMBER",
    "AK9_DUPLICATE_CONTROL_NUMBER_SINCE",
    "AK9_TEXT",
    "ak9_code_defined",
    "AK5_NOT_SUPPORTED",
    "AK5_TRAILER_MISSING",
    "AK5_CONTROL_NUMBER_MISMATCH",
    "AK5_SEGMENT_COUNT_MISMATCH",
    "AK5_SEGMENTS_IN_ERROR",
    "AK5_INVALID_SET_ID",
    "AK5_INVALID_CONTROL_NUMBER",
    "AK5_DUPLICATE_CONTROL_NUMBER",
    "AK5_IMPLEMENTATION_CONVENTION_NOT_SUPPORTED",
    "AK5_TEXT",
]

# --- I18 Interchange Note Code (TA105) ----------------------------------------------------
TA1_NO_ERROR = "000"
TA1_CONTROL_NUMBER_MISMATCH = "001"
TA1_STANDARD_NOT_SUPPORTED = "002"
TA1_VERSION_NOT_SUPPORTED = "003"
TA1_INVALID_SEGMENT_TERMINATOR = "004"
TA1_INVALID_SENDER_QUALIFIER = "005"
TA1_INVALID_SENDER_ID = "006"
TA1_INVALID_RECEIVER_QUALIFIER = "007"
TA1_INVALID_RECEIVER_ID = "008"
TA1_UNKNOWN_RECEIVER_ID = "009"
TA1_INVALID_AUTHORIZATION_QUALIFIER = "010"
TA1_INVALID_AUTHORIZATION_VALUE = "011"
TA1_INVALID_SECURITY_QUALIFIER = "012"
TA1_INVALID_SECURITY_VALUE = "013"
TA1_INVALID_DATE = "014"
TA1_INVALID_TIME = "015"
TA1_INVALID_STANDARDS_ID = "016"
TA1_INVALID_VERSION = "017"
TA1_INVALID_CONTROL_NUMBER = "018"
TA1_INVALID_ACK_REQUESTED = "019"
TA1_INVALID_TEST_INDICATOR = "020"
TA1_INVALID_GROUP_COUNT = "021"
TA1_INVALID_CONTROL_STRUCTURE = "022"
TA1_PREMATURE_END_OF_FILE = "023"
TA1_INVALID_CONTENT = "024"
TA1_DUPLICATE_CONTROL_NUMBER = "025"
TA1_INVALID_ELEMENT_SEPARATOR = "026"
TA1_INVALID_COMPONENT_SEPARATOR = "027"
TA1_INVALID_DELIVERY_DATE = "028"
TA1_INVALID_DELIVERY_TIME = "029"
TA1_INVALID_DELIVERY_TIME_CODE = "030"
TA1_INVALID_GRADE_OF_SERVICE = "031"

TA1_TEXT = MappingProxyType(
    {
        TA1_NO_ERROR: "No error",
        TA1_CONTROL_NUMBER_MISMATCH: (
            "The Interchange Control Number in the Header and Trailer Do Not Match"
        ),
        TA1_STANDARD_NOT_SUPPORTED: (
            "This Standard as Noted in the Control Standards Identifier is Not Supported"
        ),
        TA1_VERSION_NOT_SUPPORTED: "This Version of the Controls is Not Supported",
        TA1_INVALID_SEGMENT_TERMINATOR: "The Segment Terminator is Invalid",
        TA1_INVALID_SENDER_QUALIFIER: "Invalid Interchange ID Qualifier for Sender",
        TA1_INVALID_SENDER_ID: "Invalid Interchange Sender ID",
        TA1_INVALID_RECEIVER_QUALIFIER: "Invalid Interchange ID Qualifier for Receiver",
        TA1_INVALID_RECEIVER_ID: "Invalid Interchange Receiver ID",
        TA1_UNKNOWN_RECEIVER_ID: "Unknown Interchange Receiver ID",
        TA1_INVALID_AUTHORIZATION_QUALIFIER: "Invalid Authorization Information Qualifier Value",
        TA1_INVALID_AUTHORIZATION_VALUE: "Invalid Authorization Information Value",
        TA1_INVALID_SECURITY_QUALIFIER: "Invalid Security Information Qualifier Value",
        TA1_INVALID_SECURITY_VALUE: "Invalid Security Information Value",
        TA1_INVALID_DATE: "Invalid Interchange Date Value",
        TA1_INVALID_TIME: "Invalid Interchange Time Value",
        TA1_INVALID_STANDARDS_ID: "Invalid Interchange Standards Identifier Value",
        TA1_INVALID_VERSION: "Invalid Interchange Version ID Value",
        TA1_INVALID_CONTROL_NUMBER: "Invalid Interchange Control Number Value",
        TA1_INVALID_ACK_REQUESTED: "Invalid Acknowledgment Requested Value",
        TA1_INVALID_TEST_INDICATOR: "Invalid Test Indicator Value",
        TA1_INVALID_GROUP_COUNT: "Invalid Number of Included Groups Value",
        TA1_INVALID_CONTROL_STRUCTURE: "Invalid Control Structure",
        TA1_PREMATURE_END_OF_FILE: "Improper (Premature) End-of-File (Transmission)",
        TA1_INVALID_CONTENT: "Invalid Interchange Content (e.g., Invalid GS Segment)",
        TA1_DUPLICATE_CONTROL_NUMBER: "Duplicate Interchange Control Number",
        TA1_INVALID_ELEMENT_SEPARATOR: "Invalid Data Element Separator",
        TA1_INVALID_COMPONENT_SEPARATOR: "Invalid Component Element Separator",
        TA1_INVALID_DELIVERY_DATE: "Invalid Delivery Date in Deferred Delivery Request",
        TA1_INVALID_DELIVERY_TIME: "Invalid Delivery Time in Deferred Delivery Request",
        TA1_INVALID_DELIVERY_TIME_CODE: "Invalid Delivery Time Code in Deferred Delivery Request",
        TA1_INVALID_GRADE_OF_SERVICE: "Invalid Grade of Service Code",
    }
)

# --- 716 Functional Group Syntax Error Code (AK905-AK909 / IK9) ----------------------------
AK9_GROUP_NOT_SUPPORTED = "1"
AK9_VERSION_NOT_SUPPORTED = "2"
AK9_TRAILER_MISSING = "3"
AK9_CONTROL_NUMBER_MISMATCH = "4"
AK9_SET_COUNT_MISMATCH = "5"
AK9_CONTROL_NUMBER_SYNTAX = "6"
AK9_DUPLICATE_CONTROL_NUMBER = "19"
#: first version/release whose 716 list gives code 19 the meaning "not unique within interchange"
AK9_DUPLICATE_CONTROL_NUMBER_SINCE = "004050"

AK9_TEXT = MappingProxyType(
    {
        AK9_GROUP_NOT_SUPPORTED: "Functional Group Not Supported",
        AK9_VERSION_NOT_SUPPORTED: "Functional Group Version Not Supported",
        AK9_TRAILER_MISSING: "Functional Group Trailer Missing",
        AK9_CONTROL_NUMBER_MISMATCH: (
            "Group Control Number in the Functional Group Header and Trailer Do Not Agree"
        ),
        AK9_SET_COUNT_MISMATCH: "Number of Included Transaction Sets Does Not Match Actual Count",
        AK9_CONTROL_NUMBER_SYNTAX: "Group Control Number Violates Syntax",
        "10": "Authentication Key Name Unknown",
        "11": "Encryption Key Name Unknown",
        "12": "Requested Service (Authentication or Encryption) Not Available",
        "13": "Unknown Security Recipient",
        "14": "Unknown Security Originator",
        "15": "Syntax Error in Decrypted Text",
        "16": "Security Not Supported",
        "17": "Incorrect Message Length (Encryption Only)",
        "18": "Message Authentication Code Failed",
        AK9_DUPLICATE_CONTROL_NUMBER: (
            "Functional Group Control Number not Unique within Interchange"
        ),
        "23": "S3E Security End Segment Missing for S3S Security Start Segment",
        "24": "S3E Security Control Value Does Not Match S3S Security Control Value",
        "25": "S4E Security End Segment Missing for S4S Security Start Segment",
        "26": "S4E Security Control Value Does Not Match S4S Security Control Value",
    }
)

# --- 718 Transaction Set Syntax Error Code (AK5 / IK5) ------------------------------------
AK5_NOT_SUPPORTED = "1"
AK5_TRAILER_MISSING = "2"
AK5_CONTROL_NUMBER_MISMATCH = "3"
AK5_SEGMENT_COUNT_MISMATCH = "4"
AK5_SEGMENTS_IN_ERROR = "5"
AK5_INVALID_SET_ID = "6"
AK5_INVALID_CONTROL_NUMBER = "7"
AK5_DUPLICATE_CONTROL_NUMBER = "23"
AK5_IMPLEMENTATION_CONVENTION_NOT_SUPPORTED = "I6"

AK5_TEXT = MappingProxyType(
    {
        AK5_NOT_SUPPORTED: "Transaction Set Not Supported",
        AK5_TRAILER_MISSING: "Transaction Set Trailer Missing",
        AK5_CONTROL_NUMBER_MISMATCH: (
            "Transaction Set Control Number in Header and Trailer Do Not Match"
        ),
        AK5_SEGMENT_COUNT_MISMATCH: "Number of Included Segments Does Not Match Actual Count",
        AK5_SEGMENTS_IN_ERROR: "One or More Segments in Error",
        AK5_INVALID_SET_ID: "Missing or Invalid Transaction Set Identifier",
        AK5_INVALID_CONTROL_NUMBER: "Missing or Invalid Transaction Set Control Number",
        AK5_DUPLICATE_CONTROL_NUMBER: (
            "Transaction Set Control Number Not Unique within the Functional Group"
        ),
        AK5_IMPLEMENTATION_CONVENTION_NOT_SUPPORTED: "Implementation Convention Not Supported",
    }
)


def ak9_code_defined(code: str, group_version: str) -> bool:
    """Whether a 997 answering a group of ``group_version`` (GS08) may carry AK9 ``code`` with
    the meaning our reports give it.

    Args:
        code: an AK9 code from our reports (the current 716 list).
        group_version: the inbound GS08, e.g. ``"004010"`` or ``"005010X222A1"``.

    Returns:
        ``False`` for code 19 before 004050 (there it names a missing security segment);
        ``True`` otherwise (unreadable versions count as current).
    """
    if code != AK9_DUPLICATE_CONTROL_NUMBER:
        return True
    release = group_version[:6]
    return not (len(release) == 6 and release.isdigit() and release < AK9_DUPLICATE_CONTROL_NUMBER_SINCE)
