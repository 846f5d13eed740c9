//! A result row from either backend, read column by column as [`FromValue`] types.

use crate::error::{Error, ErrorKind, Result};
use crate::pg::types::pg_value;
use crate::value::{ConversionError, FromValue, Value, ValueRef};

/// One row of a query result.
pub struct Row<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl<'a> Row<'a> {
    pub(crate) fn sqlite(row: &'a rusqlite::Row<'a>) -> Row<'a> {
        Row {
            inner: Inner::Sqlite(row),
        }
    }

    pub(crate) fn postgres(row: &'a postgres::Row) -> Row<'a> {
        Row {
            inner: Inner::Postgres(row),
        }
    }

    /// The value of column `index` (from 0) as `T`.
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T> {
        let value = self.value_ref(index)?;
        T::from_value(value).map_err(|e| e.into_error(index, self.column_name(index)))
    }

    /// The value of column `index`, owned.
    pub fn value(&self, index: usize) -> Result<Value> {
        self.get(index)
    }

    /// How many columns the row has.
    pub fn len(&self) -> usize {
        match self.inner {
            Inner::Sqlite(row) => row.as_ref().column_count(),
            Inner::Postgres(row) => row.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of column `index` ("?" past the last column).
    pub fn column_name(&self, index: usize) -> &str {
        match self.inner {
            Inner::Sqlite(row) => row.as_ref().column_name(index).unwrap_or("?"),
            Inner::Postgres(row) => row.columns().get(index).map_or("?", |c| c.name()),
        }
    }

    fn value_ref(&self, index: usize) -> Result<ValueRef<'_>> {
        if index >= self.len() {
            return Err(Error::new(
                ErrorKind::Other,
                format!("no column {index}: the row has {}", self.len()),
            ));
        }
        let read = match self.inner {
            Inner::Sqlite(row) => match row.get_ref(index) {
                Ok(value) => sqlite_value(value),
                Err(e) => return Err(crate::sqlite::error(e)),
            },
            Inner::Postgres(row) => pg_value(row, index),
        };
        read.map_err(|e: ConversionError| e.into_error(index, self.column_name(index)))
    }
}

fn sqlite_value(value: rusqlite::types::ValueRef<'_>) -> Result<ValueRef<'_>, ConversionError> {
    use rusqlite::types::ValueRef as S;
    Ok(match value {
        S::Null => ValueRef::Null,
        S::Integer(i) => ValueRef::Int(i),
        S::Real(f) => ValueRef::Real(f),
        S::Text(bytes) => {
            ValueRef::Text(std::str::from_utf8(bytes).map_err(|_| ConversionError {
                expected: "UTF-8 text",
                found: "text that is not UTF-8".to_string(),
            })?)
        }
        S::Blob(bytes) => ValueRef::Blob(bytes),
    })
}
