//! Values in and out of test statements: parameters, columns and rows as
//! plain Rust types, the same on both backends.

use chrono::NaiveDate;

use crate::value::Value;

/// A value bound to a `?1`-style parameter of a statement.
pub trait Param {
    /// The value as the database stores it.
    fn value(&self) -> Value;
}

impl Param for str {
    fn value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl Param for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl Param for i64 {
    fn value(&self) -> Value {
        Value::Integer(*self)
    }
}

/// Days are stored as `YYYY-MM-DD` text.
impl Param for NaiveDate {
    fn value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}

/// One column of a result row as a Rust value; a value of another type
/// (text where a number was expected, a NULL where none may be) panics.
pub trait Column: Sized {
    /// The value, or `None` if it is not of this type.
    fn from_value(value: Value) -> Option<Self>;
}

impl Column for Value {
    fn from_value(value: Value) -> Option<Self> {
        Some(value)
    }
}

impl Column for i64 {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Integer(i) => Some(i),
            _ => None,
        }
    }
}

/// Integers are read as numbers too, as SQLite itself converts them.
impl Column for f64 {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Integer(i) => Some(i as f64),
            Value::Real(x) => Some(x),
            _ => None,
        }
    }
}

impl Column for String {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// NULL is `None`.
impl<T: Column> Column for Option<T> {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A whole result row as a Rust value: one column, a tuple of columns, an
/// array of columns of one type, or every column as a `Vec<Value>`.
pub trait Row: Sized {
    /// The row; panics (naming `sql`) if its columns do not fit.
    fn from_row(row: Vec<Value>, sql: &str) -> Self;
}

/// Takes a column's value as `T`, or panics naming the column and `sql`.
fn column<T: Column>(value: Value, i: usize, sql: &str) -> T {
    let shown = format!("{value:?}");
    T::from_value(value)
        .unwrap_or_else(|| panic!("column {i} of `{sql}` is {shown}, not a {}", std::any::type_name::<T>()))
}

fn expect_columns(row: &[Value], n: usize, sql: &str) {
    assert_eq!(row.len(), n, "`{sql}` returns {} columns, not {n}", row.len());
}

impl<T: Column> Row for T {
    fn from_row(row: Vec<Value>, sql: &str) -> Self {
        expect_columns(&row, 1, sql);
        let value = row.into_iter().next().unwrap_or(Value::Null);
        column(value, 0, sql)
    }
}

impl<T: Column, const N: usize> Row for [T; N] {
    fn from_row(row: Vec<Value>, sql: &str) -> Self {
        expect_columns(&row, N, sql);
        let values: Vec<T> = row.into_iter().enumerate().map(|(i, v)| column(v, i, sql)).collect();
        values.try_into().unwrap_or_else(|_| unreachable!("{N} columns counted"))
    }
}

impl Row for Vec<Value> {
    fn from_row(row: Vec<Value>, _sql: &str) -> Self {
        row
    }
}

macro_rules! tuple_rows {
    ($($n:literal: ($($t:ident $i:tt),+);)+) => {$(
        impl<$($t: Column),+> Row for ($($t,)+) {
            fn from_row(row: Vec<Value>, sql: &str) -> Self {
                expect_columns(&row, $n, sql);
                let mut values = row.into_iter();
                ($(column::<$t>(values.next().unwrap_or(Value::Null), $i, sql),)+)
            }
        }
    )+};
}

tuple_rows! {
    2: (A 0, B 1);
    3: (A 0, B 1, C 2);
    4: (A 0, B 1, C 2, D 3);
    5: (A 0, B 1, C 2, D 3, E 4);
    6: (A 0, B 1, C 2, D 3, E 4, F 5);
    7: (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    9: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    10: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
}
