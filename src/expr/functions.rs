//! The function registry: every function the parser accepts, with its arity, documented signature
//! and the Graph `attributeMappingSource` parameter keys. Names are case-sensitive, as in Entra.

/// A known function. The name in source is the variant name (`IIF` for `Iif`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Function {
    Append,
    AppRoleAssignmentsComplex,
    AssertiveAppRoleAssignmentsComplex,
    BitAnd,
    CBool,
    CDate,
    Coalesce,
    ConvertToBase64,
    ConvertToUtf8Hex,
    Count,
    CStr,
    DateAdd,
    DateDiff,
    DateFromNum,
    FormatDateTime,
    Guid,
    IgnoreFlowIfNullOrEmpty,
    Iif,
    InStr,
    IsNothing,
    IsNull,
    IsNullOrEmpty,
    IsPresent,
    IsString,
    Item,
    Join,
    Left,
    Mid,
    NormalizeDiacritics,
    Not,
    Now,
    NumFromDate,
    PCase,
    Prepend,
    RandomString,
    Redact,
    RemoveDuplicates,
    Replace,
    SelectUniqueValue,
    SingleAppRoleAssignment,
    Split,
    StripSpaces,
    Switch,
    ToLower,
    ToUpper,
    Word,
}

/// How many arguments a function takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Between `min` and `max` inclusive.
    Range(usize, usize),
    /// `min` or more.
    AtLeast(usize),
    /// An even number, `min` or more (Switch: source, default, then key/value pairs).
    EvenAtLeast(usize),
}

impl Arity {
    /// Whether `n` arguments fit.
    pub fn accepts(self, n: usize) -> bool {
        match self {
            Arity::Range(min, max) => (min..=max).contains(&n),
            Arity::AtLeast(min) => n >= min,
            Arity::EvenAtLeast(min) => n >= min && n.is_multiple_of(2),
        }
    }

    pub(crate) fn describe(self) -> String {
        match self {
            Arity::Range(min, max) if min == max => min.to_string(),
            Arity::Range(min, max) => format!("{min} to {max}"),
            Arity::AtLeast(min) => format!("at least {min}"),
            Arity::EvenAtLeast(min) => format!("an even number (at least {min})"),
        }
    }
}

/// One registry row.
#[derive(Debug, Clone, Copy)]
pub struct FunctionSpec {
    /// The function.
    pub function: Function,
    /// Its case-sensitive name in expressions.
    pub name: &'static str,
    /// Accepted argument counts.
    pub arity: Arity,
    /// The signature as documented, shown in arity errors.
    pub signature: &'static str,
    /// Graph parameter keys by position; the last one repeats for variadic functions.
    pub params: &'static [&'static str],
}

macro_rules! spec {
    ($f:ident, $name:literal, $arity:expr, $sig:literal, [$($p:literal),*]) => {
        FunctionSpec { function: Function::$f, name: $name, arity: $arity, signature: $sig, params: &[$($p),*] }
    };
}

use Arity::{AtLeast, EvenAtLeast, Range};

/// Every function, sorted by name.
pub const FUNCTIONS: &[FunctionSpec] = &[
    spec!(
        Append,
        "Append",
        Range(2, 2),
        "Append(source, suffix)",
        ["source", "suffix"]
    ),
    spec!(
        AppRoleAssignmentsComplex,
        "AppRoleAssignmentsComplex",
        Range(1, 1),
        "AppRoleAssignmentsComplex([appRoleAssignments])",
        ["source"]
    ),
    spec!(
        AssertiveAppRoleAssignmentsComplex,
        "AssertiveAppRoleAssignmentsComplex",
        Range(1, 1),
        "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
        ["source"]
    ),
    spec!(
        BitAnd,
        "BitAnd",
        Range(2, 2),
        "BitAnd(value1, value2)",
        ["value1", "value2"]
    ),
    spec!(
        CBool,
        "CBool",
        Range(1, 1),
        "CBool(expression)",
        ["expression"]
    ),
    spec!(
        CDate,
        "CDate",
        Range(1, 1),
        "CDate(expression)",
        ["expression"]
    ),
    spec!(CStr, "CStr", Range(1, 1), "CStr(value)", ["value"]),
    spec!(
        Coalesce,
        "Coalesce",
        AtLeast(1),
        "Coalesce(source1, source2, ..., defaultValue)",
        ["source"]
    ),
    spec!(
        ConvertToBase64,
        "ConvertToBase64",
        Range(1, 1),
        "ConvertToBase64(source)",
        ["source"]
    ),
    spec!(
        ConvertToUtf8Hex,
        "ConvertToUTF8Hex",
        Range(1, 1),
        "ConvertToUTF8Hex(source)",
        ["source"]
    ),
    spec!(
        Count,
        "Count",
        Range(1, 1),
        "Count(attribute)",
        ["attribute"]
    ),
    spec!(
        DateAdd,
        "DateAdd",
        Range(3, 3),
        "DateAdd(interval, value, dateTime)",
        ["interval", "value", "dateTime"]
    ),
    spec!(
        DateDiff,
        "DateDiff",
        Range(3, 3),
        "DateDiff(interval, date1, date2)",
        ["interval", "date1", "date2"]
    ),
    spec!(
        DateFromNum,
        "DateFromNum",
        Range(1, 1),
        "DateFromNum(value)",
        ["value"]
    ),
    spec!(
        FormatDateTime,
        "FormatDateTime",
        Range(3, 4),
        "FormatDateTime(source, dateTimeStyles, inputFormat, outputFormat)",
        ["source", "dateTimeStyles", "inputFormat", "outputFormat"]
    ),
    spec!(Guid, "Guid", Range(0, 0), "Guid()", []),
    spec!(
        Iif,
        "IIF",
        Range(3, 3),
        "IIF(condition, valueIfTrue, valueIfFalse)",
        ["condition", "valueIfTrue", "valueIfFalse"]
    ),
    spec!(
        IgnoreFlowIfNullOrEmpty,
        "IgnoreFlowIfNullOrEmpty",
        Range(1, 1),
        "IgnoreFlowIfNullOrEmpty(expression)",
        ["expression"]
    ),
    spec!(
        InStr,
        "InStr",
        Range(2, 4),
        "InStr(value1, value2, start, compareType)",
        ["value1", "value2", "start", "compareType"]
    ),
    spec!(
        IsNothing,
        "IsNothing",
        Range(1, 1),
        "IsNothing(source)",
        ["source"]
    ),
    spec!(
        IsNull,
        "IsNull",
        Range(1, 1),
        "IsNull(expression)",
        ["expression"]
    ),
    spec!(
        IsNullOrEmpty,
        "IsNullOrEmpty",
        Range(1, 1),
        "IsNullOrEmpty(expression)",
        ["expression"]
    ),
    spec!(
        IsPresent,
        "IsPresent",
        Range(1, 1),
        "IsPresent(expression)",
        ["expression"]
    ),
    spec!(
        IsString,
        "IsString",
        Range(1, 1),
        "IsString(expression)",
        ["expression"]
    ),
    spec!(
        Item,
        "Item",
        Range(2, 2),
        "Item(attribute, index)",
        ["attribute", "index"]
    ),
    spec!(
        Join,
        "Join",
        AtLeast(2),
        "Join(separator, source1, source2, ...)",
        ["separator", "source"]
    ),
    spec!(
        Left,
        "Left",
        Range(2, 2),
        "Left(String, NumChars)",
        ["string", "numChars"]
    ),
    spec!(
        Mid,
        "Mid",
        Range(3, 3),
        "Mid(source, start, length)",
        ["source", "start", "length"]
    ),
    spec!(
        NormalizeDiacritics,
        "NormalizeDiacritics",
        Range(1, 1),
        "NormalizeDiacritics(source)",
        ["source"]
    ),
    spec!(Not, "Not", Range(1, 1), "Not(source)", ["source"]),
    spec!(Now, "Now", Range(0, 0), "Now()", []),
    spec!(
        NumFromDate,
        "NumFromDate",
        Range(1, 1),
        "NumFromDate(value)",
        ["value"]
    ),
    spec!(
        PCase,
        "PCase",
        Range(1, 2),
        "PCase(source, wordSeparators)",
        ["source", "wordSeparators"]
    ),
    spec!(
        Prepend,
        "Prepend",
        Range(2, 2),
        "Prepend(prefix, source)",
        ["prefix", "source"]
    ),
    spec!(
        RandomString,
        "RandomString",
        Range(5, 6),
        "RandomString(Length, MinimumNumbers, MinimumSpecialCharacters, MinimumCapital, MinimumLowerCase, CharactersToAvoid)",
        [
            "length",
            "minimumNumbers",
            "minimumSpecialCharacters",
            "minimumCapital",
            "minimumLowerCase",
            "charactersToAvoid"
        ]
    ),
    spec!(Redact, "Redact", Range(1, 1), "Redact(value)", ["source"]),
    spec!(
        RemoveDuplicates,
        "RemoveDuplicates",
        Range(1, 1),
        "RemoveDuplicates(attribute)",
        ["attribute"]
    ),
    spec!(
        Replace,
        "Replace",
        Range(2, 7),
        "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)",
        [
            "source",
            "find",
            "regexPattern",
            "regexGroupName",
            "replacementValue",
            "replacementAttributeName",
            "template"
        ]
    ),
    spec!(
        SelectUniqueValue,
        "SelectUniqueValue",
        AtLeast(2),
        "SelectUniqueValue(uniqueValueRule1, uniqueValueRule2, ...)",
        ["uniqueValueRule"]
    ),
    spec!(
        SingleAppRoleAssignment,
        "SingleAppRoleAssignment",
        Range(1, 1),
        "SingleAppRoleAssignment([appRoleAssignments])",
        ["source"]
    ),
    spec!(
        Split,
        "Split",
        Range(2, 2),
        "Split(source, delimiter)",
        ["source", "delimiter"]
    ),
    spec!(
        StripSpaces,
        "StripSpaces",
        Range(1, 1),
        "StripSpaces(source)",
        ["source"]
    ),
    spec!(
        Switch,
        "Switch",
        EvenAtLeast(4),
        "Switch(source, defaultValue, key1, value1, key2, value2, ...)",
        ["source", "defaultValue", "key", "value"]
    ),
    spec!(
        ToLower,
        "ToLower",
        Range(1, 2),
        "ToLower(source, culture)",
        ["source", "culture"]
    ),
    spec!(
        ToUpper,
        "ToUpper",
        Range(1, 2),
        "ToUpper(source, culture)",
        ["source", "culture"]
    ),
    spec!(
        Word,
        "Word",
        Range(3, 3),
        "Word(String, WordNumber, Delimiters)",
        ["string", "wordNumber", "delimiters"]
    ),
];

impl Function {
    /// The registry row of this function.
    pub fn spec(self) -> &'static FunctionSpec {
        // Every variant has a row (tested); Append's row is a harmless fallback that cannot be reached.
        FUNCTIONS
            .iter()
            .find(|s| s.function == self)
            .unwrap_or(&FUNCTIONS[0])
    }

    /// The case-sensitive name used in expressions.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Looks a name up exactly (case-sensitive).
    pub fn from_name(name: &str) -> Option<Function> {
        FUNCTIONS
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.function)
    }

    /// The Graph parameter key of argument `index` (Switch alternates key/value after the first two).
    pub fn param_key(self, index: usize) -> &'static str {
        let params = self.spec().params;
        if self == Function::Switch && index >= 2 {
            return if index.is_multiple_of(2) {
                "key"
            } else {
                "value"
            };
        }
        params
            .get(index)
            .or(params.last())
            .copied()
            .unwrap_or("argument")
    }
}

/// The known name closest to `name`: an exact case-insensitive match first, else the smallest edit
/// distance if it is at most a third of the name's length (at least 2).
pub fn suggest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    if let Some(c) = candidates.clone().find(|c| c.eq_ignore_ascii_case(name)) {
        return Some(c);
    }
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = i;
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (prev_diag + cost).min(row[j] + 1).min(row[j + 1] + 1);
            prev_diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_variant_round_trips() {
        for spec in FUNCTIONS {
            assert_eq!(Function::from_name(spec.name), Some(spec.function));
            assert_eq!(spec.function.name(), spec.name);
            assert_eq!(FUNCTIONS.iter().filter(|s| s.name == spec.name).count(), 1);
        }
        assert_eq!(FUNCTIONS.len(), 46);
    }

    #[test]
    fn suggestions() {
        let names = || FUNCTIONS.iter().map(|s| s.name);
        assert_eq!(suggest("toLower", names()), Some("ToLower"));
        assert_eq!(suggest("Apend", names()), Some("Append"));
        assert_eq!(suggest("Swich", names()), Some("Switch"));
        assert_eq!(suggest("Frobnicate", names()), None);
    }
}
