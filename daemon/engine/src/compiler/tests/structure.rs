//! Structural comparison of two ES modules: the same statements and expressions in the same
//! order, the same names and literal values, ignoring layout, comments, parentheses and the
//! order of names inside an import.

use std::collections::{BTreeMap, BTreeSet};

use oxc::allocator::Allocator;
use oxc::ast::AstKind;
use oxc::parser::{ParseOptions, Parser};
use oxc::semantic::SemanticBuilder;
use oxc::span::{GetSpan, SourceType};

/// A module's shape: its imports (source → names) and every other node in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub imports: BTreeMap<String, BTreeSet<String>>,
    pub nodes: Vec<String>,
}

pub(crate) fn shape(code: &str) -> Shape {
    let allocator = Allocator::default();
    let options = ParseOptions {
        preserve_parens: false,
        ..ParseOptions::default()
    };
    let parsed = Parser::new(&allocator, code, SourceType::mjs())
        .with_options(options)
        .parse();
    assert!(
        parsed.diagnostics.errors().next().is_none(),
        "output does not parse: {:?}\n{code}",
        parsed.diagnostics.errors().next()
    );
    let semantic = SemanticBuilder::new()
        .with_build_nodes(true)
        .build(&parsed.program)
        .semantic;
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut import_spans = Vec::new();
    let mut nodes = Vec::new();
    for node in semantic.nodes().iter() {
        let kind = node.kind();
        let span = kind.span();
        if import_spans
            .iter()
            .any(|s: &oxc::span::Span| s.start <= span.start && span.end <= s.end && *s != span)
        {
            continue;
        }
        if let AstKind::ImportDeclaration(import) = kind {
            let names = imports.entry(import.source.value.to_string()).or_default();
            for specifier in import.specifiers.iter().flatten() {
                names.insert(format!(
                    "{} as {}",
                    specifier.name(),
                    specifier.local().name
                ));
            }
            import_spans.push(span);
            nodes.push(format!("Import({})", import.source.value));
            continue;
        }
        // Printers differ on stray `;` (recast drops them); they do nothing.
        if !matches!(kind, AstKind::EmptyStatement(_)) {
            nodes.push(describe(kind));
        }
    }
    Shape { imports, nodes }
}

fn describe(kind: AstKind<'_>) -> String {
    let ty = format!("{:?}", kind.ty());
    let detail = match kind {
        AstKind::IdentifierReference(x) => x.name.to_string(),
        AstKind::BindingIdentifier(x) => x.name.to_string(),
        AstKind::IdentifierName(x) => x.name.to_string(),
        AstKind::LabelIdentifier(x) => x.name.to_string(),
        AstKind::StringLiteral(x) => x.value.to_string(),
        AstKind::NumericLiteral(x) => x.value.to_string(),
        AstKind::BooleanLiteral(x) => x.value.to_string(),
        AstKind::TemplateElement(x) => x.value.raw.to_string(),
        AstKind::RegExpLiteral(x) => x.raw.map(|r| r.to_string()).unwrap_or_default(),
        _ => return ty,
    };
    format!("{ty}({detail})")
}

#[test]
fn shapes_ignore_layout_comments_parens_and_import_order() {
    let a = shape("import { a, b } from 'x';\n// hi\nexport default [f((1)), g(\n  2\n)];");
    let b = shape("import { b, a } from \"x\";\nexport default [f(1), g(2)];\n");
    assert_eq!(a, b);
    assert_ne!(shape("f(state => 1)"), shape("f(s => 1)"));
}
