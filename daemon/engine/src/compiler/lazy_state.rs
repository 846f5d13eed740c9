//! Lazy state: `$.a.b` → `state.a.b`, and the whole argument of the nearest enclosing call
//! becomes `state => <argument>` (OpenFn's `lazy-state` transform).

use oxc::ast::AstKind;
use oxc::ast::ast::{BindingPattern, CallExpression, Expression};
use oxc::semantic::NodeId;
use oxc::span::{GetSpan, Span};

use super::CompileError;
use super::edits::{Edit, Piece};
use super::scopes::Scopes;
use super::tree::{Tree, is_statement_or_declaration, member_object};

/// What the transform decided.
#[derive(Debug, Default)]
pub(crate) struct LazyState {
    pub edits: Vec<Edit>,
    /// Spans now wrapped in `state => …`.
    pub wrapped: Vec<Span>,
    /// `$` identifiers renamed to `state`.
    pub renamed: Vec<Span>,
}

impl LazyState {
    pub(crate) fn is_wrapped(&self, span: Span) -> bool {
        self.wrapped.contains(&span)
    }

    /// Inside (or equal to) a span that became the body of a `state => …` arrow.
    pub(crate) fn inside_wrap(&self, span: Span) -> bool {
        self.wrapped
            .iter()
            .any(|w| w.start <= span.start && span.end <= w.end)
    }
}

pub(crate) fn plan(
    source: &str,
    tree: &Tree<'_, '_>,
    scopes: &Scopes<'_, '_, '_>,
) -> Result<LazyState, CompileError> {
    let mut state = LazyState::default();
    for (id, kind) in tree.all() {
        let AstKind::IdentifierReference(dollar) = kind else {
            continue;
        };
        if dollar.name != "$" {
            continue;
        }
        let Some(member) = outermost_member_headed_by(tree, id) else {
            continue;
        };
        if tree.in_top_level_object_literal(id) {
            continue;
        }
        // A `$` declared in an enclosing function is just a variable (the program scope
        // does not count, as in OpenFn).
        if scopes
            .is_declared(member, "$", true)
            .map_err(|u| CompileError::unbound_catch(source, u.0))?
        {
            continue;
        }
        state.renamed.push(dollar.span);
        state.edits.push(Edit::new(
            dollar.span,
            vec![Piece::Text("state".into(), dollar.span.start)],
        ));
        wrap_enclosing_argument(source, tree, member, dollar.span, &mut state)?;
    }
    Ok(state)
}

/// For a `$` that heads a member chain (`$.a`, `$[0].b`), the outermost member of it.
fn outermost_member_headed_by(tree: &Tree<'_, '_>, dollar: NodeId) -> Option<NodeId> {
    let mut current = dollar;
    let mut member = None;
    while let Some(parent) = tree.parent(current) {
        match member_object(tree.kind(parent)) {
            Some(object) if object.span() == tree.span(current) => {
                member = Some(parent);
                current = parent;
            }
            _ => break,
        }
    }
    member
}

fn wrap_enclosing_argument(
    source: &str,
    tree: &Tree<'_, '_>,
    member: NodeId,
    dollar: Span,
    state: &mut LazyState,
) -> Result<(), CompileError> {
    // Walk up to the nearest call; crossing any statement means `$` is outside an operation.
    let mut last = member;
    let (call_id, call) = loop {
        let Some(parent) = tree.parent(last) else {
            return Err(lazy_error(source, "Must be inside an operation", dollar));
        };
        let kind = tree.kind(parent);
        if is_statement_or_declaration(kind) {
            return Err(lazy_error(source, "Must be inside an operation", dollar));
        }
        if let AstKind::CallExpression(call) = kind {
            break (parent, call);
        }
        last = parent;
    };
    let last_span = tree.span(last);
    let is_callee = call.callee.span() == last_span;

    // `state.f(...)`: OpenFn wraps the whole call rather than its callee.
    let (target_id, target_span) = if calls_state_method(call, &state.renamed) {
        if !is_callee {
            if state.is_wrapped(call.span) {
                return Ok(()); // already inside that call's `state =>` arrow
            }
            return Err(lazy_error(
                source,
                "$ cannot be used in the arguments of a state method call",
                dollar,
            ));
        }
        (call_id, call.span)
    } else {
        (last, last_span)
    };

    if state.is_wrapped(target_span) {
        return Ok(());
    }
    match tree.kind(target_id) {
        AstKind::SpreadElement(_) => Err(lazy_error(
            source,
            "$ cannot be used in a spread argument",
            dollar,
        )),
        AstKind::ArrowFunctionExpression(arrow) => {
            let count = arrow.params.items.len() + usize::from(arrow.params.rest.is_some());
            if count != 1 {
                return Err(lazy_error(source, "parent has wrong arity", arrow.span));
            }
            let name = match arrow.params.items.first().map(|p| &p.pattern) {
                Some(BindingPattern::BindingIdentifier(id))
                    if arrow.params.items[0].initializer.is_none() =>
                {
                    id.name.as_str()
                }
                _ => "undefined",
            };
            if name == "state" {
                Ok(()) // already an open function `state => …`
            } else {
                Err(lazy_error(
                    source,
                    &format!("parameter \"{name}\" should be called \"state\""),
                    arrow.span,
                ))
            }
        }
        target_kind => {
            let body_parens = matches!(
                target_kind,
                AstKind::ObjectExpression(_) | AstKind::SequenceExpression(_)
            ) || source[target_span.start as usize..].starts_with('{');
            let outer_parens = needs_parens_as_arrow(tree, target_id, target_span);
            let open = format!(
                "{}state => {}",
                if outer_parens { "(" } else { "" },
                if body_parens { "(" } else { "" }
            );
            let close = format!(
                "{}{}",
                if body_parens { ")" } else { "" },
                if outer_parens { ")" } else { "" }
            );
            let mut pieces = vec![
                Piece::Text(open, target_span.start),
                Piece::Source(target_span),
            ];
            if !close.is_empty() {
                pieces.push(Piece::Text(close, target_span.end));
            }
            state.edits.push(Edit::new(target_span, pieces));
            state.wrapped.push(target_span);
            Ok(())
        }
    }
}

/// `state.x(...)` (or `$.x(...)` about to become that).
fn calls_state_method(call: &CallExpression<'_>, renamed: &[Span]) -> bool {
    let object = match &call.callee {
        Expression::StaticMemberExpression(m) => &m.object,
        Expression::ComputedMemberExpression(m) => &m.object,
        Expression::PrivateFieldExpression(m) => &m.object,
        _ => return false,
    };
    match object {
        Expression::Identifier(id) => {
            id.name == "state" || (id.name == "$" && renamed.contains(&id.span))
        }
        _ => false,
    }
}

/// An arrow placed where `span` was needs parentheses unless it sits in a list position.
fn needs_parens_as_arrow(tree: &Tree<'_, '_>, id: NodeId, span: Span) -> bool {
    let Some(parent) = tree.parent(id) else {
        return false;
    };
    match tree.kind(parent) {
        AstKind::CallExpression(call) => call.callee.span() == span,
        AstKind::NewExpression(new) => new.callee.span() == span,
        AstKind::ArrayExpression(_)
        | AstKind::ExpressionStatement(_)
        | AstKind::VariableDeclarator(_)
        | AstKind::ReturnStatement(_) => false,
        AstKind::ObjectProperty(property) => property.value.span() != span,
        _ => true,
    }
}

fn lazy_error(source: &str, message: &str, span: Span) -> CompileError {
    CompileError::at(source, format!("Lazy State Error: {message}"), span.start)
}
