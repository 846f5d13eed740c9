//! Values to and from PostgreSQL's types.
//!
//! Parameters: PostgreSQL infers each parameter's type from the statement, and a value is
//! encoded for that type: an integer for int2/int4 (range checked), int8, oid, float4/8,
//! bool (non-zero is true) or text types; anything the server parses better itself
//! (numeric, json, jsonb, uuid, timestamps…) is sent in text format and parsed there.
//! Text binds to any type in text format (so `?1::uuid` or a text into an int8 column
//! works as the server's own cast would); a blob binds to bytea only.
//!
//! Columns: int2/4/8, oid and bool read as integers; float4/8 as reals; numeric (what
//! SUM and AVG of bigints return) as an integer when it is a whole number that fits, else
//! a real; text, varchar, char, name, json, jsonb and unknown as text; bytea as a blob.
//! Other types must be cast in the SQL (`x::text`).

use crate::value::{ConversionError, ValueRef};
use postgres::types::{Format, FromSql, IsNull, ToSql, Type, to_sql_checked};
use std::error::Error as StdError;

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter as the postgres crate binds it.
#[derive(Debug)]
pub(crate) struct Param<'a>(pub ValueRef<'a>);

/// How a value is sent for a parameter type.
enum Encoding {
    Native,
    Text,
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
    )
}

fn encoding(value: &ValueRef<'_>, ty: &Type) -> Encoding {
    let native = match value {
        ValueRef::Null => true,
        ValueRef::Int(_) => {
            matches!(
                *ty,
                Type::INT8
                    | Type::INT4
                    | Type::INT2
                    | Type::OID
                    | Type::FLOAT8
                    | Type::FLOAT4
                    | Type::BOOL
            ) || is_text(ty)
        }
        ValueRef::Real(_) => matches!(*ty, Type::FLOAT8 | Type::FLOAT4) || is_text(ty),
        ValueRef::Text(_) => is_text(ty) || *ty == Type::BYTEA,
        ValueRef::Blob(_) => true,
    };
    if native {
        Encoding::Native
    } else {
        Encoding::Text
    }
}

fn mismatch(value: &ValueRef<'_>, ty: &Type) -> BoxError {
    format!(
        "cannot bind {} to a parameter of type {ty}",
        value.type_name()
    )
    .into()
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        let value = self.0;
        if let Encoding::Text = encoding(&value, ty) {
            match value {
                ValueRef::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
                ValueRef::Real(f) => out.extend_from_slice(f.to_string().as_bytes()),
                ValueRef::Text(s) => out.extend_from_slice(s.as_bytes()),
                ValueRef::Null | ValueRef::Blob(_) => return Err(mismatch(&value, ty)),
            }
            return Ok(IsNull::No);
        }
        match value {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)
                    .map_err(|_| out_of_range(ty))?
                    .to_sql(ty, out),
                Type::INT2 => i16::try_from(i)
                    .map_err(|_| out_of_range(ty))?
                    .to_sql(ty, out),
                Type::OID => u32::try_from(i)
                    .map_err(|_| out_of_range(ty))?
                    .to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                Type::FLOAT4 => (i as f32).to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                _ => text_bytes(&i.to_string(), out),
            },
            ValueRef::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (f as f32).to_sql(ty, out),
                _ => text_bytes(&f.to_string(), out),
            },
            ValueRef::Text(s) => text_bytes(s, out),
            ValueRef::Blob(b) if *ty == Type::BYTEA => b.to_sql(ty, out),
            ValueRef::Blob(_) => Err(mismatch(&value, ty)),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> Format {
        match encoding(&self.0, ty) {
            Encoding::Native => Format::Binary,
            Encoding::Text => Format::Text,
        }
    }

    to_sql_checked!();
}

fn out_of_range(ty: &Type) -> BoxError {
    format!("integer out of range for a parameter of type {ty}").into()
}

/// Text in binary format: its UTF-8 bytes (for bytea too: SQLite stores text in a blob
/// column the same way).
fn text_bytes(s: &str, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
    out.extend_from_slice(s.as_bytes());
    Ok(IsNull::No)
}

/// Column `index` of `row` as a [`ValueRef`].
pub(crate) fn pg_value(row: &postgres::Row, index: usize) -> Result<ValueRef<'_>, ConversionError> {
    let ty = row.columns()[index].type_();
    if !<Column as FromSql>::accepts(ty) {
        return Err(ConversionError {
            expected: "a type bolt reads (cast it in the SQL, e.g. `x::text`)",
            found: format!("PostgreSQL type {ty}"),
        });
    }
    row.try_get::<_, Column<'_>>(index)
        .map(|c| c.0)
        .map_err(|_| ConversionError {
            expected: "a readable value",
            found: format!("a malformed {ty} value"),
        })
}

/// A column value read from PostgreSQL's binary format.
struct Column<'a>(ValueRef<'a>);

impl<'a> FromSql<'a> for Column<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let value = match *ty {
            Type::INT8 => ValueRef::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => ValueRef::Int(i16::from_sql(ty, raw)?.into()),
            Type::OID => ValueRef::Int(u32::from_sql(ty, raw)?.into()),
            Type::BOOL => ValueRef::Int(bool::from_sql(ty, raw)?.into()),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f32::from_sql(ty, raw)?.into()),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => ValueRef::Blob(raw),
            Type::JSONB => match raw.split_first() {
                Some((1, text)) => ValueRef::Text(std::str::from_utf8(text)?),
                _ => return Err("unsupported jsonb version".into()),
            },
            _ => ValueRef::Text(std::str::from_utf8(raw)?),
        };
        Ok(Column(value))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Column(ValueRef::Null))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::OID
                | Type::BOOL
                | Type::FLOAT8
                | Type::FLOAT4
                | Type::NUMERIC
                | Type::BYTEA
                | Type::JSONB
        ) || is_text(ty)
    }
}

/// A numeric in PostgreSQL's binary format: digit count, weight (the power of 10000 of the
/// first digit), sign, display scale, then base-10000 digits.
fn numeric<'a>(raw: &[u8]) -> Result<ValueRef<'a>, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i32;
    let sign = word(2)?;
    let scale = word(3)?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok(ValueRef::Real(f64::NAN)),
        0xD000 => return Ok(ValueRef::Real(f64::INFINITY)),
        0xF000 => return Ok(ValueRef::Real(f64::NEG_INFINITY)),
        _ => return Err("bad numeric sign".into()),
    }
    let digits = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<u16>, BoxError>>()?;
    let negative = sign == 0x4000;
    // A whole number (no digit below the units) that fits an i64 stays exact.
    let whole = scale == 0 && (ndigits as i32) <= weight + 1;
    if whole {
        let mut n: i128 = 0;
        let mut fits = true;
        for i in 0..=weight {
            let d = digits.get(i as usize).copied().unwrap_or(0);
            n = match n.checked_mul(10_000).and_then(|n| n.checked_add(d.into())) {
                Some(n) => n,
                None => {
                    fits = false;
                    break;
                }
            };
        }
        let n = if negative { -n } else { n };
        if fits && let Ok(n) = i64::try_from(n) {
            return Ok(ValueRef::Int(n));
        }
    }
    // Otherwise a real, read through its decimal text for correct rounding.
    let mut text = String::with_capacity(ndigits * 4 + 8);
    if negative {
        text.push('-');
    }
    text.push_str("0.");
    for d in &digits {
        text.push_str(&format!("{d:04}"));
    }
    text.push_str(&format!("e{}", (weight + 1) * 4));
    Ok(ValueRef::Real(text.parse::<f64>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(ndigits: u16, weight: i16, sign: u16, scale: u16, digits: &[u16]) -> Vec<u8> {
        let mut raw = Vec::new();
        for w in [ndigits, weight as u16, sign, scale] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            raw.extend_from_slice(&d.to_be_bytes());
        }
        raw
    }

    #[test]
    fn numerics_read_as_integers_or_reals() {
        // 123456789 = 1|2345|6789, weight 2.
        assert_eq!(
            numeric(&encode(3, 2, 0, 0, &[1, 2345, 6789])).unwrap(),
            ValueRef::Int(123_456_789)
        );
        // -20000 = 2|0000 with trailing zero digits dropped: one digit, weight 1.
        assert_eq!(
            numeric(&encode(1, 1, 0x4000, 0, &[2])).unwrap(),
            ValueRef::Int(-20_000)
        );
        assert_eq!(numeric(&encode(0, 0, 0, 0, &[])).unwrap(), ValueRef::Int(0));
        // 2.5 = 2 . 5000, scale 1.
        assert_eq!(
            numeric(&encode(2, 0, 0, 1, &[2, 5000])).unwrap(),
            ValueRef::Real(2.5)
        );
        // 0.0001 = weight -1.
        assert_eq!(
            numeric(&encode(1, -1, 0, 4, &[1])).unwrap(),
            ValueRef::Real(0.0001)
        );
        // 2.0000 (AVG of whole numbers) has a scale: a real, as SQLite's AVG.
        assert_eq!(
            numeric(&encode(1, 0, 0, 4, &[2])).unwrap(),
            ValueRef::Real(2.0)
        );
        // Past i64: a real.
        let big = numeric(&encode(6, 5, 0, 0, &[1, 0, 0, 0, 0, 0])).unwrap();
        assert_eq!(big, ValueRef::Real(1e20));
        assert!(
            matches!(numeric(&encode(0, 0, 0xC000, 0, &[])).unwrap(), ValueRef::Real(f) if f.is_nan())
        );
        assert!(numeric(&[0, 1]).is_err());
    }
}
