//! Promise chains on operations: `op(...).then(f).catch(h)` → `_defer(op(...), p => p.then(f)…)`
//! (OpenFn's `promises` transform). Only chains outside functions and blocks are rewritten,
//! and only the outermost chain of a subtree.

use oxc::ast::AstKind;
use oxc::ast::ast::{CallExpression, Expression, Program, Statement};
use oxc::span::{GetSpan, Span};

use super::CompileError;
use super::edits::{Edit, Piece};
use super::lazy_state::LazyState;
use super::tree::{Tree, expression_member_object, is_function_or_block, member_property_name};

#[derive(Debug, Default)]
pub(crate) struct Promises {
    pub edits: Vec<Edit>,
    /// Whole chains replaced by `_defer(...)`.
    pub rewritten: Vec<Span>,
    /// Spans now inside a `p => p…` arrow.
    pub tails: Vec<Span>,
    /// Whether `import { defer as _defer } from "@openfn/runtime"` must be added.
    pub needs_import: bool,
}

const RUNTIME: &str = "@openfn/runtime";

pub(crate) fn plan(
    source: &str,
    program: &Program<'_>,
    tree: &Tree<'_, '_>,
    lazy: &LazyState,
) -> Result<Promises, CompileError> {
    let mut promises = Promises::default();
    for (id, kind) in tree.all() {
        let AstKind::CallExpression(call) = kind else {
            continue;
        };
        let within_rewritten = promises
            .rewritten
            .iter()
            .any(|r| r.start <= call.span.start && call.span.end <= r.end);
        if within_rewritten || !is_promise_call(call) || lazy.is_wrapped(call.callee.span()) {
            continue;
        }
        let in_function = tree
            .ancestors(id)
            .any(|a| is_function_or_block(tree.kind(a)));
        if in_function || lazy.inside_wrap(call.span) || tree.in_top_level_object_literal(id) {
            continue;
        }
        rewrite_chain(source, call, lazy, &mut promises)?;
    }
    if !promises.rewritten.is_empty() {
        promises.needs_import = !imports_runtime(program);
    }
    Ok(promises)
}

fn is_promise_call(call: &CallExpression<'_>) -> bool {
    matches!(member_property_name(&call.callee), Some("then" | "catch"))
}

/// OpenFn only adds its import when nothing is imported from the runtime yet.
fn imports_runtime(program: &Program<'_>) -> bool {
    program.body.iter().any(|statement| {
        matches!(statement, Statement::ImportDeclaration(import) if import.source.value == RUNTIME)
    })
}

fn rewrite_chain<'a>(
    source: &str,
    chain: &'a CallExpression<'a>,
    lazy: &LazyState,
    promises: &mut Promises,
) -> Result<(), CompileError> {
    // Walk down `.then()/.catch()` calls to the operation they hang off: a call (or, as in
    // OpenFn, a `new` expression).
    let mut next = chain;
    let mut outer: Option<&CallExpression<'_>> = None;
    let operation: Span = loop {
        if !matches!(member_property_name(&next.callee), Some("then" | "catch")) {
            break next.span;
        }
        match expression_member_object(&next.callee) {
            Some(Expression::CallExpression(inner)) => {
                outer = Some(next);
                next = inner;
            }
            Some(Expression::NewExpression(new)) => {
                outer = Some(next);
                break new.span;
            }
            _ => {
                return Err(CompileError::at(
                    source,
                    "Promise chains (.then/.catch) must follow an operation call, like fn(...).then(...)".into(),
                    chain.span.start,
                ));
            }
        }
    };
    if lazy.is_wrapped(operation) {
        return Err(CompileError::at(
            source,
            "Lazy State Error: $ cannot be used as the operation of a promise chain".into(),
            operation.start,
        ));
    }

    let op = operation;
    let mut pieces = vec![
        Piece::Text("_defer(".into(), chain.span.start),
        Piece::Source(op),
    ];
    let catch_call = outer.filter(|c| member_property_name(&c.callee) == Some("catch"));
    let tail_start = match catch_call {
        Some(catch_call) => catch_call.span.end,
        None => op.end,
    };
    if tail_start < chain.span.end {
        let tail = Span::new(tail_start, chain.span.end);
        pieces.push(Piece::Text(", p => p".into(), op.end));
        pieces.push(Piece::Source(tail));
        promises.tails.push(tail);
    } else if catch_call.is_some() {
        pieces.push(Piece::Text(", undefined".into(), op.end));
    }
    if let Some(catch_call) = catch_call {
        pieces.push(Piece::Text(", ".into(), catch_call.span.start));
        match catch_call.arguments.first() {
            Some(handler) => {
                pieces.push(Piece::Source(handler.span()));
            }
            None => pieces.push(Piece::Text("undefined".into(), catch_call.span.start)),
        }
    }
    pieces.push(Piece::Text(")".into(), chain.span.end));
    promises.edits.push(Edit::new(chain.span, pieces));
    promises.rewritten.push(chain.span);
    Ok(())
}
