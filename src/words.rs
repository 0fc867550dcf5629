//! Words for people that every layer writes the same way.

/// "1 task", "2 tasks".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
