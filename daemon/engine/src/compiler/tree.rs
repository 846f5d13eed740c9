//! Parent-aware view of the parsed job (oxc's semantic node table), with the ESTree-shaped
//! questions OpenFn's transforms ask: is this a statement, a scope, a member expression…

use oxc::ast::AstKind;
use oxc::ast::ast::{Expression, Function, FunctionType, Statement};
use oxc::semantic::{AstNodes, NodeId};
use oxc::span::{GetSpan, Span};

pub(crate) struct Tree<'s, 'a> {
    pub nodes: &'s AstNodes<'a>,
    /// Spans of the object literals in top-level `const|let|var x = { ... }`.
    top_level_objects: Vec<Span>,
}

impl<'s, 'a> Tree<'s, 'a> {
    pub(crate) fn new(nodes: &'s AstNodes<'a>) -> Self {
        let top_level_objects = nodes
            .program()
            .body
            .iter()
            .filter_map(|statement| match statement {
                Statement::VariableDeclaration(declaration) => Some(declaration),
                _ => None,
            })
            .flat_map(|declaration| declaration.declarations.iter())
            .filter_map(|declarator| match &declarator.init {
                Some(Expression::ObjectExpression(object)) => Some(object.span),
                _ => None,
            })
            .collect();
        Self {
            nodes,
            top_level_objects,
        }
    }

    pub(crate) fn kind(&self, id: NodeId) -> AstKind<'a> {
        self.nodes.kind(id)
    }

    pub(crate) fn span(&self, id: NodeId) -> Span {
        self.kind(id).span()
    }

    pub(crate) fn parent(&self, id: NodeId) -> Option<NodeId> {
        if matches!(self.kind(id), AstKind::Program(_)) {
            None
        } else {
            Some(self.nodes.parent_id(id))
        }
    }

    /// Ancestors of `id`, nearest first, ending with the program.
    pub(crate) fn ancestors(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.parent(id), move |&p| self.parent(p))
    }

    /// All node ids in traversal (pre-)order.
    pub(crate) fn all(&self) -> impl Iterator<Item = (NodeId, AstKind<'a>)> + '_ {
        self.nodes.iter().map(|node| (node.id(), node.kind()))
    }

    /// True inside `const|let|var x = { ... }` written directly at the top level: OpenFn's
    /// transforms (lazy state, promises, add-imports) skip such object literals entirely.
    pub(crate) fn in_top_level_object_literal(&self, id: NodeId) -> bool {
        if self.top_level_objects.is_empty() {
            return false;
        }
        let span = self.span(id);
        self.top_level_objects
            .iter()
            .any(|object| object.start <= span.start && span.end <= object.end)
    }
}

/// The object of a member expression (`a` in `a.b`, `a[b]`, `a.#b`).
pub(crate) fn member_object<'a>(kind: AstKind<'a>) -> Option<&'a Expression<'a>> {
    match kind {
        AstKind::StaticMemberExpression(m) => Some(&m.object),
        AstKind::ComputedMemberExpression(m) => Some(&m.object),
        AstKind::PrivateFieldExpression(m) => Some(&m.object),
        _ => None,
    }
}

/// The property name of a member expression, as OpenFn reads it (`property.name`): the
/// name of a static property or of an identifier used as a computed property.
pub(crate) fn member_property_name<'a>(expression: &'a Expression<'a>) -> Option<&'a str> {
    match expression {
        Expression::StaticMemberExpression(m) => Some(m.property.name.as_str()),
        Expression::ComputedMemberExpression(m) => match &m.expression {
            Expression::Identifier(id) => Some(id.name.as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// The object of a member expression given as an expression.
pub(crate) fn expression_member_object<'a>(
    expression: &'a Expression<'a>,
) -> Option<&'a Expression<'a>> {
    match expression {
        Expression::StaticMemberExpression(m) => Some(&m.object),
        Expression::ComputedMemberExpression(m) => Some(&m.object),
        Expression::PrivateFieldExpression(m) => Some(&m.object),
        _ => None,
    }
}

/// ast-types' `Statement`/`Declaration` (OpenFn's lazy-state refuses to cross these).
pub(crate) fn is_statement_or_declaration(kind: AstKind<'_>) -> bool {
    match kind {
        AstKind::Function(function) => is_function_declaration(function),
        AstKind::Class(class) => class.is_declaration(),
        AstKind::BlockStatement(_)
        | AstKind::FunctionBody(_)
        | AstKind::StaticBlock(_)
        | AstKind::Directive(_)
        | AstKind::VariableDeclaration(_)
        | AstKind::EmptyStatement(_)
        | AstKind::ExpressionStatement(_)
        | AstKind::IfStatement(_)
        | AstKind::DoWhileStatement(_)
        | AstKind::WhileStatement(_)
        | AstKind::ForStatement(_)
        | AstKind::ForInStatement(_)
        | AstKind::ForOfStatement(_)
        | AstKind::ContinueStatement(_)
        | AstKind::BreakStatement(_)
        | AstKind::ReturnStatement(_)
        | AstKind::WithStatement(_)
        | AstKind::SwitchStatement(_)
        | AstKind::LabeledStatement(_)
        | AstKind::ThrowStatement(_)
        | AstKind::TryStatement(_)
        | AstKind::DebuggerStatement(_)
        | AstKind::ClassBody(_)
        | AstKind::MethodDefinition(_)
        | AstKind::PropertyDefinition(_)
        | AstKind::AccessorProperty(_)
        | AstKind::ImportDeclaration(_)
        | AstKind::ExportNamedDeclaration(_)
        | AstKind::ExportDeclaration(_)
        | AstKind::ExportFromDeclaration(_)
        | AstKind::ExportDefaultDeclaration(_)
        | AstKind::ExportAllDeclaration(_) => true,
        _ => false,
    }
}

pub(crate) fn is_function_declaration(function: &Function<'_>) -> bool {
    matches!(function.r#type, FunctionType::FunctionDeclaration)
}

/// Functions and blocks: OpenFn's promise transform only rewrites chains outside them.
pub(crate) fn is_function_or_block(kind: AstKind<'_>) -> bool {
    matches!(
        kind,
        AstKind::Function(_)
            | AstKind::ArrowFunctionExpression(_)
            | AstKind::BlockStatement(_)
            | AstKind::FunctionBody(_)
            | AstKind::StaticBlock(_)
    )
}
