//! Jobs written to probe OpenFn's compiler at its edges (scoping quirks, promise chains,
//! lazy-state corner cases, comments and layout), each with what OpenFn's compiler 1.2.5
//! produced for it with language-common's exports (`openfn_outputs.txt`). Ours must have
//! the same shape, or refuse where OpenFn refused — with the same message and position for
//! lazy-state errors.

use super::super::compile;
use super::common;
use super::structure::shape;

struct Case<'t> {
    job: &'t str,
    expected: Result<&'t str, &'t str>,
}

fn cases() -> Vec<Case<'static>> {
    let text = include_str!("openfn_outputs.txt");
    text.split("=== job\n")
        .filter(|chunk| !chunk.is_empty())
        .map(|chunk| {
            if let Some((job, refusal)) = chunk.split_once("--- openfn refused\n") {
                Case {
                    job,
                    expected: Err(refusal.trim_end()),
                }
            } else {
                let (job, output) = chunk.split_once("--- openfn\n").expect("case separator");
                Case {
                    job,
                    expected: Ok(output),
                }
            }
        })
        .collect()
}

/// "Lazy State Error: Must be inside an operation (1:30)" → (message, line, column).
fn split_position(message: &str) -> Option<(&str, u32, u32)> {
    let (text, position) = message.rsplit_once(" (")?;
    let (line, column) = position.strip_suffix(')')?.split_once(':')?;
    Some((text, line.parse().ok()?, column.parse().ok()?))
}

#[test]
fn edge_cases_compile_like_openfn() {
    let cases = cases();
    assert!(cases.len() >= 150);
    let mut failures = Vec::new();
    for case in &cases {
        match (compile(case.job, &common()), case.expected) {
            (Ok(ours), Ok(theirs)) => {
                if shape(&ours.code) != shape(theirs) {
                    failures.push(format!(
                        "{}--- ours\n{}--- openfn\n{theirs}",
                        case.job, ours.code
                    ));
                }
            }
            (Ok(ours), Err(reason)) => {
                failures.push(format!(
                    "{}OpenFn refused ({reason}), ours:\n{}",
                    case.job, ours.code
                ));
            }
            (Err(error), Ok(_)) => failures.push(format!("{}we refused: {error}", case.job)),
            (Err(error), Err(reason)) => {
                if reason.starts_with("Lazy State Error")
                    && let Some((text, line, column)) = split_position(reason)
                    && (error.message != text
                        || error.line != Some(line)
                        || error.column != Some(column))
                {
                    failures.push(format!("{}OpenFn: {reason}\nours: {error}", case.job));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
