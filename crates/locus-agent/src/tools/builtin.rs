//! Built-in demo tools: `calculator` and `clock`.

use std::time::{SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::Deserialize;

use super::{FnTool, ToolError, tool_fn};

/// The names of the built-in tools.
pub const NAMES: &[&str] = &["calculator", "clock"];

/// Arguments of `calculator`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CalculatorArgs {
    /// An arithmetic expression: numbers, + - * / % ^ and parentheses, e.g. `17*23`.
    pub expression: String,
}

/// Evaluates arithmetic expressions.
///
/// ```
/// assert_eq!(locus_agent::tools::builtin::evaluate("2 + 3 * (4 - 1) ^ 2").unwrap(), 29.0);
/// ```
pub fn calculator() -> FnTool<CalculatorArgs, impl Fn(CalculatorArgs) -> std::future::Ready<Result<String, ToolError>>>
{
    tool_fn("calculator", "Evaluates an arithmetic expression and returns the number.", |args: CalculatorArgs| {
        std::future::ready(evaluate(&args.expression).map(format_number).map_err(ToolError::new))
    })
    .safe()
}

/// Arguments of `clock` (none).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ClockArgs {}

/// The current date and time in UTC.
pub fn clock() -> FnTool<ClockArgs, impl Fn(ClockArgs) -> std::future::Ready<Result<serde_json::Value, ToolError>>> {
    tool_fn("clock", "Returns the current date and time in UTC.", |_: ClockArgs| {
        let now = SystemTime::now();
        let unix = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        std::future::ready(Ok(serde_json::json!({ "utc": rfc3339(unix), "unix": unix })))
    })
    .safe()
}

fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{value:.0}") } else { format!("{value}") }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
fn rfc3339(unix: u64) -> String {
    let at = i64::try_from(unix).ok().and_then(|u| time::OffsetDateTime::from_unix_timestamp(u).ok());
    // Whole seconds in UTC always format; the fallback is never taken.
    at.unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// How deeply parentheses, signs and exponents may nest: far beyond any real
/// arithmetic, and far below what would exhaust a thread's stack.
const MAX_NESTING: usize = 256;

/// Evaluates `+ - * / % ^`, unary minus and parentheses over decimal numbers
/// (nested at most 256 deep).
pub fn evaluate(expression: &str) -> Result<f64, String> {
    let tokens: Vec<char> = expression.chars().collect();
    let mut parser = Parser { tokens: &tokens, at: 0, depth: 0 };
    let value = parser.sum()?;
    if parser.peek().is_some() {
        return Err(format!("unexpected `{}` at position {}", tokens[parser.at], parser.at + 1));
    }
    if value.is_finite() { Ok(value) } else { Err("the result is not a finite number (division by zero?)".into()) }
}

struct Parser<'a> {
    tokens: &'a [char],
    at: usize,
    /// Nested `unary` calls: every recursion of the grammar passes through it.
    depth: usize,
}

impl Parser<'_> {
    /// The next character that is not white space.
    fn peek(&mut self) -> Option<char> {
        while self.tokens.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
        self.tokens.get(self.at).copied()
    }

    fn sum(&mut self) -> Result<f64, String> {
        let mut value = self.product()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.at += 1;
            let rhs = self.product()?;
            value = if op == '+' { value + rhs } else { value - rhs };
        }
        Ok(value)
    }

    fn product(&mut self) -> Result<f64, String> {
        let mut value = self.unary()?;
        while let Some(op @ ('*' | '/' | '%' | '×' | '÷')) = self.peek() {
            self.at += 1;
            let rhs = self.unary()?;
            value = match op {
                '*' | '×' => value * rhs,
                '/' | '÷' => value / rhs,
                _ => value % rhs,
            };
        }
        Ok(value)
    }

    /// Negation binds looser than `^`: `-2^2` is -4.
    fn unary(&mut self) -> Result<f64, String> {
        if self.depth >= MAX_NESTING {
            return Err(format!("the expression nests deeper than {MAX_NESTING} levels"));
        }
        self.depth += 1;
        let value = self.signed();
        self.depth -= 1;
        value
    }

    fn signed(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some('-') => {
                self.at += 1;
                Ok(-self.unary()?)
            }
            Some('+') => {
                self.at += 1;
                self.unary()
            }
            _ => self.power(),
        }
    }

    /// Right-associative; the exponent may be negated: `2^-1`.
    fn power(&mut self) -> Result<f64, String> {
        let base = self.atom()?;
        if self.peek() == Some('^') {
            self.at += 1;
            let exponent = self.unary()?;
            return Ok(base.powf(exponent));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let value = self.sum()?;
                if self.peek() != Some(')') {
                    return Err("missing `)`".into());
                }
                self.at += 1;
                Ok(value)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.at;
                while self.tokens.get(self.at).is_some_and(|c| c.is_ascii_digit() || *c == '.') {
                    self.at += 1;
                }
                let text: String = self.tokens[start..self.at].iter().collect();
                text.parse().map_err(|_| format!("`{text}` is not a number"))
            }
            Some(c) => Err(format!("unexpected `{c}` at position {}", self.at + 1)),
            None => Err("the expression ended too early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        for (expression, value) in [
            ("17*23", 391.0),
            ("2+3*4", 14.0),
            ("(2+3)*4", 20.0),
            ("-2^2", -4.0),
            ("2^3^2", 512.0),
            ("2^-1", 0.5),
            ("-(3)", -3.0),
            ("7 % 4", 3.0),
            ("1.5*2", 3.0),
        ] {
            assert_eq!(evaluate(expression).unwrap(), value, "{expression}");
        }
        for bad in ["", "2+", "(1", "1/0", "abc", "1 2"] {
            assert!(evaluate(bad).is_err(), "{bad}");
        }
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(evaluate(&deep).unwrap_err().contains("nests deeper than 256"));
        assert!(evaluate(&"-".repeat(100_000)).is_err());
        assert!(evaluate(&format!("2{}", "^2".repeat(100_000))).is_err());
        let fine = format!("{}1{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(evaluate(&fine).unwrap(), 1.0);
        assert_eq!(format_number(391.0), "391");
        assert_eq!(format_number(0.5), "0.5");
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_072_000), "2025-11-25T12:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
