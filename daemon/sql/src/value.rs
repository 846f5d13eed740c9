//! The values that cross the seam: SQLite's five storage classes, owned ([`Value`]) and
//! borrowed ([`ValueRef`]), with conversions to parameters ([`ToParam`]) and from columns
//! ([`FromValue`]).

use crate::error::{Error, ErrorKind};

/// A value as SQLite stores it. PostgreSQL values are mapped onto these (see the crate docs).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed [`Value`]: what parameters are bound as and what a column is read as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Int(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl ValueRef<'_> {
    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    /// The storage class's name, for error messages (never the value itself).
    pub fn type_name(self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Int(_) => "an integer",
            ValueRef::Real(_) => "a real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        }
    }
}

/// Something that can be bound as a statement parameter without copying it.
pub trait ToParam {
    fn to_param(&self) -> ValueRef<'_>;
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> ValueRef<'_> {
        (**self).to_param()
    }
}

impl ToParam for Value {
    fn to_param(&self) -> ValueRef<'_> {
        self.as_ref()
    }
}

impl ToParam for ValueRef<'_> {
    fn to_param(&self) -> ValueRef<'_> {
        *self
    }
}

impl ToParam for i64 {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Int(*self)
    }
}

macro_rules! small_int_param {
    ($($t:ty),*) => {$(
        impl ToParam for $t {
            fn to_param(&self) -> ValueRef<'_> {
                ValueRef::Int(i64::from(*self))
            }
        }
    )*};
}
small_int_param!(i32, u32, i16, u16, i8, u8);

impl ToParam for usize {
    /// Counts and sizes beyond `i64::MAX` don't exist on the machines bolt runs on; they are
    /// clamped rather than wrapped to a negative number.
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToParam for bool {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Int(i64::from(*self))
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl ToParam for str {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToParam for String {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToParam for [u8] {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToParam for Vec<u8> {
    fn to_param(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_param(),
            None => ValueRef::Null,
        }
    }
}

/// Parameters for a statement: `params![id, name, Some(3)]` borrows each value.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[$crate::ValueRef<'_>]
    };
    ($($p:expr),+ $(,)?) => {
        &[$($crate::ToParam::to_param(&$p)),+] as &[$crate::ValueRef<'_>]
    };
}

/// Why a column could not become the asked-for Rust type (the value is never included:
/// it may be a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError {
    pub expected: &'static str,
    pub found: String,
}

impl ConversionError {
    fn new(expected: &'static str, found: impl Into<String>) -> Self {
        ConversionError {
            expected,
            found: found.into(),
        }
    }

    pub(crate) fn into_error(self, index: usize, column: &str) -> Error {
        Error::new(
            ErrorKind::Conversion,
            format!(
                "column {index} (`{column}`): expected {}, found {}",
                self.expected, self.found
            ),
        )
    }
}

/// A Rust type a column can be read as.
pub trait FromValue: Sized {
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError>;
}

impl FromValue for Value {
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
        Ok(value.to_owned())
    }
}

impl FromValue for i64 {
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
        match value {
            ValueRef::Int(i) => Ok(i),
            other => Err(ConversionError::new("an integer", other.type_name())),
        }
    }
}

macro_rules! narrow_int_column {
    ($($t:ty => $name:literal),*) => {$(
        impl FromValue for $t {
            fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
                let wide = i64::from_value(value)
                    .map_err(|e| ConversionError::new($name, e.found))?;
                <$t>::try_from(wide)
                    .map_err(|_| ConversionError::new($name, "an integer out of its range"))
            }
        }
    )*};
}
narrow_int_column!(
    i32 => "a 32-bit integer",
    u32 => "an unsigned 32-bit integer",
    u64 => "an unsigned 64-bit integer",
    usize => "an unsigned integer",
    i16 => "a 16-bit integer",
    u16 => "an unsigned 16-bit integer",
    u8 => "an unsigned 8-bit integer"
);

impl FromValue for bool {
    /// Flags are stored as 0/1 integers; PostgreSQL's own booleans arrive as 0/1 too.
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
        match value {
            ValueRef::Int(i) => Ok(i != 0),
            other => Err(ConversionError::new("a 0/1 flag", other.type_name())),
        }
    }
}

impl FromValue for f64 {
    /// Integers widen to reals as in SQLite (`AVG` of whole numbers, integer columns).
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
        match value {
            ValueRef::Real(f) => Ok(f),
            ValueRef::Int(i) => Ok(i as f64),
            other => Err(ConversionError::new("a real", other.type_name())),
        }
    }
}

impl FromValue for String {
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
        match value {
            ValueRef::Text(s) => Ok(s.to_string()),
            other => Err(ConversionError::new("text", other.type_name())),
        }
    }
}

impl FromValue for Vec<u8> {
    /// Text reads as its UTF-8 bytes, as rusqlite does.
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
        match value {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            ValueRef::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(ConversionError::new("a blob", other.type_name())),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, ConversionError> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from($v: $t) -> Value {
                $e
            }
        }
    )*};
}
value_from!(
    i64 => |v| Value::Int(v),
    i32 => |v| Value::Int(i64::from(v)),
    u32 => |v| Value::Int(i64::from(v)),
    usize => |v| Value::Int(i64::try_from(v).unwrap_or(i64::MAX)),
    bool => |v| Value::Int(i64::from(v)),
    f64 => |v| Value::Real(v),
    &str => |v| Value::Text(v.to_string()),
    String => |v| Value::Text(v),
    Vec<u8> => |v| Value::Blob(v),
    &[u8] => |v| Value::Blob(v.to_vec()),
);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        v.as_ref()
    }
}

macro_rules! value_try_into {
    ($($t:ty),*) => {$(
        impl TryFrom<Value> for $t {
            type Error = ConversionError;
            fn try_from(v: Value) -> Result<Self, ConversionError> {
                <$t as FromValue>::from_value(v.as_ref())
            }
        }
    )*};
}
value_try_into!(i64, i32, u32, usize, bool, f64, String, Vec<u8>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_integers_say_when_out_of_range() {
        assert_eq!(i32::from_value(ValueRef::Int(7)), Ok(7));
        let err = i32::from_value(ValueRef::Int(i64::MAX)).unwrap_err();
        assert_eq!(err.found, "an integer out of its range");
        let err = u32::from_value(ValueRef::Int(-1)).unwrap_err();
        assert_eq!(err.expected, "an unsigned 32-bit integer");
        let err = usize::from_value(ValueRef::Text("x")).unwrap_err();
        assert_eq!(err.found, "text");
    }

    #[test]
    fn options_flags_and_reals() {
        assert_eq!(Option::<i64>::from_value(ValueRef::Null), Ok(None));
        assert_eq!(Option::<i64>::from_value(ValueRef::Int(1)), Ok(Some(1)));
        assert!(i64::from_value(ValueRef::Null).is_err());
        assert_eq!(bool::from_value(ValueRef::Int(2)), Ok(true));
        assert_eq!(f64::from_value(ValueRef::Int(2)), Ok(2.0));
        assert_eq!(Value::from(Some("a")), Value::Text("a".into()));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(i64::try_from(Value::Int(5)), Ok(5));
    }

    #[test]
    fn params_borrow_their_values() {
        let name = String::from("n");
        let none: Option<&str> = None;
        let blob = vec![b'x'];
        let p = params![1i64, name, none, true, 1.5f64, 3usize, blob];
        assert_eq!(
            p,
            &[
                ValueRef::Int(1),
                ValueRef::Text("n"),
                ValueRef::Null,
                ValueRef::Int(1),
                ValueRef::Real(1.5),
                ValueRef::Int(3),
                ValueRef::Blob(b"x"),
            ]
        );
        assert!(params![].is_empty());
    }
}
