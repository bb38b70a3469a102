//! The JSON report: `Report` as it is, with verdict counts as an object.

use serde_json::{Map, Value, json};

use super::Report;

/// The report as pretty JSON.
pub fn render(report: &Report<'_>) -> String {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    let summary: Map<String, Value> =
        report.summary.iter().map(|(v, n)| (v.word().to_owned(), json!(n))).collect();
    if let Some(object) = value.as_object_mut() {
        object.insert("summary".to_owned(), Value::Object(summary));
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
