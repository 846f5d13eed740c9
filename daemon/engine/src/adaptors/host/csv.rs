//! CSV parsing for `parseCsv`, with csv-parse's option names and record/error shapes.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The csv-parse options language-common passes through (it drops every other key).
#[derive(Debug, Deserialize)]
#[serde(default)]
struct CsvOptions {
    delimiter: Value,
    quote: Value,
    escape: Value,
    columns: Value,
    bom: bool,
    trim: bool,
    ltrim: bool,
    rtrim: bool,
    skip_empty_lines: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: Value::from(","),
            quote: Value::from("\""),
            escape: Value::from("\""),
            columns: Value::Bool(true),
            bom: true,
            trim: true,
            ltrim: true,
            rtrim: true,
            skip_empty_lines: true,
        }
    }
}

/// Parses `text` into a JSON array of records: objects keyed by column name when `columns`
/// is `true` (header row) or an array of names, else arrays of strings. Errors carry
/// csv-parse's code and message, as `"CODE: message"`.
pub fn parse_csv(text: &str, options_json: &str) -> Result<String, String> {
    let options: CsvOptions = if options_json.trim().is_empty() {
        CsvOptions::default()
    } else {
        serde_json::from_str(options_json).map_err(|e| format!("invalid CSV options: {e}"))?
    };
    let text = if options.bom {
        text.strip_prefix('\u{feff}').unwrap_or(text)
    } else {
        text
    };
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(false)
        .flexible(true)
        .delimiter(single_byte("delimiter", &options.delimiter, b',')?);
    match &options.quote {
        Value::Bool(false) | Value::Null => {
            builder.quoting(false);
        }
        quote => {
            let quote = single_byte("quote", quote, b'"')?;
            let escape = match &options.escape {
                Value::Bool(false) | Value::Null => quote,
                escape => single_byte("escape", escape, b'"')?,
            };
            builder.quote(quote);
            if escape != quote {
                builder.double_quote(false).escape(Some(escape));
            }
        }
    }
    let trim_left = options.ltrim || options.trim;
    let trim_right = options.rtrim || options.trim;
    let quote_byte = match &options.quote {
        Value::Bool(false) | Value::Null => None,
        quote => Some(single_byte("quote", quote, b'"')?),
    };
    let escape_byte = match &options.escape {
        Value::Bool(false) | Value::Null => quote_byte,
        escape => Some(single_byte("escape", escape, b'"')?),
    };
    let normalized = trim_blanks(
        text,
        Syntax {
            delimiter: single_byte("delimiter", &options.delimiter, b',')? as char,
            quote: quote_byte.map(char::from),
            escape: escape_byte.map(char::from),
        },
        trim_left,
        trim_right,
    );

    let mut columns: Option<Vec<String>> = match &options.columns {
        Value::Array(names) => Some(names.iter().map(column_name).collect()),
        _ => None,
    };
    let header_row = options.columns == Value::Bool(true);
    let mut records = Vec::new();
    for result in builder.from_reader(normalized.as_bytes()).records() {
        let record = result.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| p.line());
        let fields: Vec<String> = record.iter().map(str::to_string).collect();
        if options.skip_empty_lines && fields.len() == 1 && fields[0].is_empty() {
            continue;
        }
        if header_row && columns.is_none() {
            columns = Some(fields);
            continue;
        }
        records.push(match &columns {
            Some(names) => {
                if names.len() != fields.len() {
                    return Err(format!(
                        "CSV_RECORD_INCONSISTENT_COLUMNS: Invalid Record Length: columns length is {}, got {} on line {line}",
                        names.len(),
                        fields.len()
                    ));
                }
                let mut object = Map::new();
                for (name, value) in names.iter().zip(fields) {
                    object.insert(name.clone(), Value::String(value));
                }
                Value::Object(object)
            }
            None => {
                if let Some(Value::Array(first)) = records.first()
                    && first.len() != fields.len()
                {
                    return Err(format!(
                        "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: Invalid Record Length: expect {}, got {} on line {line}",
                        first.len(),
                        fields.len()
                    ));
                }
                Value::Array(fields.into_iter().map(Value::String).collect())
            }
        });
    }
    serde_json::to_string(&records).map_err(|e| e.to_string())
}

fn column_name(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn single_byte(option: &str, value: &Value, default: u8) -> Result<u8, String> {
    match value {
        Value::String(s) if s.len() == 1 => Ok(s.as_bytes()[0]),
        Value::String(s) if s.is_empty() => Ok(default),
        Value::Null => Ok(default),
        other => Err(format!(
            "CSV_INVALID_OPTION: option {option} must be a single ASCII character, got {other}"
        )),
    }
}

/// The characters that delimit fields.
#[derive(Clone, Copy)]
struct Syntax {
    delimiter: char,
    quote: Option<char>,
    escape: Option<char>,
}

#[derive(Clone, Copy, PartialEq)]
enum Field {
    Start,
    Unquoted,
    Quoted,
    AfterQuote,
}

const fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// csv-parse trims blanks *around* fields, before unquoting: `1, "x, y" ,2` is three fields
/// and the blanks inside quotes stay. The csv crate only trims after unquoting (and treats a
/// quote after a blank as text), so the blanks outside quotes are removed here first.
fn trim_blanks(text: &str, syntax: Syntax, left: bool, right: bool) -> String {
    if !left && !right {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut field = String::new();
    let mut state = Field::Start;
    let mut chars = text.chars().peekable();
    let flush = |field: &mut String, out: &mut String| {
        let value = if right {
            field.trim_end_matches(is_blank)
        } else {
            field.as_str()
        };
        out.push_str(value);
        field.clear();
    };
    while let Some(c) = chars.next() {
        let ends_field = c == syntax.delimiter || c == '\n' || c == '\r';
        match state {
            Field::Start | Field::Unquoted if ends_field => {
                flush(&mut field, &mut out);
                out.push(c);
                state = Field::Start;
            }
            Field::Start if left && is_blank(c) => {}
            Field::Start if Some(c) == syntax.quote => {
                if !left {
                    out.push_str(&field);
                    field.clear();
                }
                out.push(c);
                state = Field::Quoted;
            }
            Field::Start if !left && is_blank(c) => field.push(c),
            Field::Start | Field::Unquoted => {
                field.push(c);
                state = Field::Unquoted;
            }
            Field::Quoted => {
                out.push(c);
                if Some(c) == syntax.escape && chars.peek().copied() == syntax.quote {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else if Some(c) == syntax.quote {
                    state = Field::AfterQuote;
                }
            }
            Field::AfterQuote if right && is_blank(c) => {}
            Field::AfterQuote => {
                out.push(c);
                if ends_field {
                    state = Field::Start;
                }
            }
        }
    }
    flush(&mut field, &mut out);
    out
}

fn csv_error(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => format!(
            "CSV_INVALID_UTF8: invalid UTF-8 on line {}",
            pos.as_ref().map_or(0, |p| p.line())
        ),
        _ => format!("CSV_PARSE_ERROR: {error}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn parse(text: &str, options: &str) -> Value {
        serde_json::from_str(&parse_csv(text, options).unwrap()).unwrap()
    }

    #[test]
    fn defaults_use_header_row_trim_and_skip_empty_lines() {
        let got = parse("name, age\nAna, 31\n\nBen ,42\n", "{}");
        assert_eq!(
            got,
            serde_json::json!([{"name":"Ana","age":"31"},{"name":"Ben","age":"42"}])
        );
    }

    #[test]
    fn delimiter_and_columns_false_give_arrays() {
        let got = parse("a;b;c\n1;2;3\n", r#"{"delimiter":";","columns":false}"#);
        assert_eq!(got, serde_json::json!([["a", "b", "c"], ["1", "2", "3"]]));
    }

    #[test]
    fn explicit_column_names_and_quoted_newlines() {
        let got = parse("\u{feff}\"1\n2\",3\r\n", r#"{"columns":["x","y"]}"#);
        assert_eq!(got, serde_json::json!([{"x":"1\n2","y":"3"}]));
    }

    #[test]
    fn inconsistent_records_fail_like_csv_parse() {
        let err = parse_csv("a,b\n1,2,3\n", "{}").unwrap_err();
        assert_eq!(
            err,
            "CSV_RECORD_INCONSISTENT_COLUMNS: Invalid Record Length: columns length is 2, got 3 on line 2"
        );
        let err = parse_csv("a,b\n1,2,3\n", r#"{"columns":false}"#).unwrap_err();
        assert!(
            err.starts_with("CSV_RECORD_INCONSISTENT_FIELDS_LENGTH"),
            "{err}"
        );
    }

    #[test]
    fn blanks_around_quotes_are_trimmed_but_not_inside() {
        let got = parse(
            "a,b,c\n1, \"x, y\" ,2\n \" q \" ,\t\"a\"\"b\"\t, z \n",
            "{}",
        );
        assert_eq!(
            got,
            serde_json::json!([
                {"a": "1", "b": "x, y", "c": "2"},
                {"a": " q ", "b": "a\"b", "c": "z"}
            ])
        );
        let untrimmed = parse(
            " a ,b\n 1 ,2\n",
            r#"{"trim":false,"ltrim":false,"rtrim":false}"#,
        );
        assert_eq!(untrimmed, serde_json::json!([{" a ": " 1 ", "b": "2"}]));
    }

    #[test]
    fn duplicate_header_keeps_last_value() {
        assert_eq!(parse("a,a\n1,2\n", "{}"), serde_json::json!([{"a":"2"}]));
    }
}
