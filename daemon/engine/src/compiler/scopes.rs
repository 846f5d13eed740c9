//! Declarations as OpenFn's compiler sees them (the `ast-types` scope model recast uses),
//! which differs from real JavaScript scoping in ways that change what gets imported:
//!
//! - only programs, functions and `catch` clauses are scopes; `let`/`const`/`class` in a
//!   block count as declared in the whole enclosing function or program;
//! - a `catch (e)` body is hoisted into the enclosing scope, a `catch ({ e })` body is not;
//! - asking a `catch { }` clause (no binding) what it declares throws
//!   "null does not match type Pattern": OpenFn's compile then fails.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use oxc::ast::AstKind;
use oxc::ast::ast::{
    BindingPattern, Class, Declaration, ExportDefaultDeclarationKind, FormalParameters,
    ImportDeclarationSpecifier, ModuleDeclaration, Statement, VariableDeclaration,
};
use oxc::semantic::NodeId;
use oxc::span::Span;

use super::tree::{Tree, is_function_declaration};

/// A `catch { }` clause without binding that a lookup ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnboundCatch(pub Span);

type Names<'a> = HashSet<&'a str>;

pub(crate) struct Scopes<'t, 's, 'a> {
    tree: &'t Tree<'s, 'a>,
    /// For each node (by index), the nearest scope-establishing node, itself included.
    nearest: Vec<NodeId>,
    /// Names declared by each scope node (by index), scanned on first use.
    cache: RefCell<HashMap<NodeId, Result<Names<'a>, UnboundCatch>>>,
}

impl<'t, 's, 'a> Scopes<'t, 's, 'a> {
    pub(crate) fn new(tree: &'t Tree<'s, 'a>) -> Self {
        // Nodes come parent-first, so a parent's nearest scope is known before its children.
        let mut nearest: Vec<NodeId> = Vec::with_capacity(tree.nodes.len());
        for (id, kind) in tree.all() {
            let scope = match tree.parent(id) {
                Some(parent) if !is_scope(kind) => {
                    nearest.get(parent.index()).copied().unwrap_or(NodeId::ROOT)
                }
                _ => id,
            };
            if nearest.len() <= id.index() {
                nearest.resize(id.index() + 1, NodeId::ROOT);
            }
            nearest[id.index()] = scope;
        }
        Self {
            tree,
            nearest,
            cache: RefCell::default(),
        }
    }

    fn nearest(&self, id: NodeId) -> NodeId {
        self.nearest
            .get(id.index())
            .copied()
            .unwrap_or(NodeId::ROOT)
    }

    /// Scope-establishing ancestors of `id` (including `id` itself), nearest first.
    pub(crate) fn scopes_of(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(Some(self.nearest(id)), |&scope| {
            self.tree.parent(scope).map(|parent| self.nearest(parent))
        })
    }

    /// Whether `name` is declared in a scope enclosing `id`, as ast-types' `scope.declares`
    /// walked outwards would say. With `skip_program`, the program scope is not consulted.
    pub(crate) fn is_declared(
        &self,
        id: NodeId,
        name: &str,
        skip_program: bool,
    ) -> Result<bool, UnboundCatch> {
        for scope in self.scopes_of(id) {
            let kind = self.tree.kind(scope);
            if skip_program && matches!(kind, AstKind::Program(_)) {
                continue;
            }
            if self.declares(scope, kind, name)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn declares(&self, scope: NodeId, kind: AstKind<'a>, name: &str) -> Result<bool, UnboundCatch> {
        let mut cache = self.cache.borrow_mut();
        let names = cache.entry(scope).or_insert_with(|| scan(kind));
        match names {
            Ok(names) => Ok(names.contains(name)),
            Err(unbound) => Err(*unbound),
        }
    }
}

fn is_scope(kind: AstKind<'_>) -> bool {
    matches!(
        kind,
        AstKind::Program(_)
            | AstKind::Function(_)
            | AstKind::ArrowFunctionExpression(_)
            | AstKind::CatchClause(_)
    )
}

/// The names a scope declares.
fn scan<'a>(kind: AstKind<'a>) -> Result<Names<'a>, UnboundCatch> {
    let mut names = Names::new();
    match kind {
        AstKind::Program(program) => scan_statements(&program.body, &mut names),
        AstKind::Function(function) => {
            // A named function expression's name is visible inside it.
            if !is_function_declaration(function)
                && let Some(id) = &function.id
            {
                names.insert(id.name.as_str());
            }
            add_parameters(&function.params, &mut names);
            if let Some(body) = &function.body {
                scan_statements(&body.statements, &mut names);
            }
        }
        AstKind::ArrowFunctionExpression(arrow) => {
            add_parameters(&arrow.params, &mut names);
            if let Some(body) = arrow_block_body(arrow) {
                scan_statements(body, &mut names);
            }
        }
        AstKind::CatchClause(clause) => match &clause.param {
            Some(param) => add_pattern(&param.pattern, &mut names),
            None => return Err(UnboundCatch(clause.span)),
        },
        _ => {}
    }
    Ok(names)
}

fn arrow_block_body<'a>(
    arrow: &'a oxc::ast::ast::ArrowFunctionExpression<'a>,
) -> Option<&'a oxc::allocator::Vec<'a, Statement<'a>>> {
    match &arrow.body {
        oxc::ast::ast::ArrowFunctionBody::FunctionBody(body) => Some(&body.statements),
        _ => None,
    }
}

fn add_parameters<'a>(params: &'a FormalParameters<'a>, names: &mut Names<'a>) {
    for param in &params.items {
        add_pattern(&param.pattern, names);
    }
    if let Some(rest) = &params.rest {
        add_pattern(&rest.rest.argument, names);
    }
}

fn add_pattern<'a>(pattern: &'a BindingPattern<'a>, names: &mut Names<'a>) {
    match pattern {
        BindingPattern::BindingIdentifier(id) => {
            names.insert(id.name.as_str());
        }
        BindingPattern::ObjectPattern(object) => {
            for property in &object.properties {
                add_pattern(&property.value, names);
            }
            if let Some(rest) = &object.rest {
                add_pattern(&rest.argument, names);
            }
        }
        BindingPattern::ArrayPattern(array) => {
            for element in array.elements.iter().flatten() {
                add_pattern(element, names);
            }
            if let Some(rest) = &array.rest {
                add_pattern(&rest.argument, names);
            }
        }
        BindingPattern::AssignmentPattern(assignment) => add_pattern(&assignment.left, names),
    }
}

fn add_variables<'a>(declaration: &'a VariableDeclaration<'a>, names: &mut Names<'a>) {
    for declarator in &declaration.declarations {
        add_pattern(&declarator.id, names);
    }
}

fn add_class<'a>(class: &'a Class<'a>, names: &mut Names<'a>) {
    if let Some(id) = &class.id {
        names.insert(id.name.as_str());
    }
}

fn add_declaration<'a>(declaration: &'a Declaration<'a>, names: &mut Names<'a>) {
    match declaration {
        Declaration::VariableDeclaration(variables) => add_variables(variables, names),
        Declaration::FunctionDeclaration(function) => {
            if let Some(id) = &function.id {
                names.insert(id.name.as_str());
            }
        }
        Declaration::ClassDeclaration(class) => add_class(class, names),
        _ => {}
    }
}

fn scan_statements<'a>(statements: &'a [Statement<'a>], names: &mut Names<'a>) {
    for statement in statements {
        scan_statement(statement, names);
    }
}

/// Declarations hoisted out of `statement` (not out of nested functions or expressions).
fn scan_statement<'a>(statement: &'a Statement<'a>, names: &mut Names<'a>) {
    match statement {
        Statement::BlockStatement(block) => scan_statements(&block.body, names),
        Statement::IfStatement(s) => {
            scan_statement(&s.consequent, names);
            if let Some(alternate) = &s.alternate {
                scan_statement(alternate, names);
            }
        }
        Statement::ForStatement(s) => {
            if let Some(oxc::ast::ast::ForStatementInit::VariableDeclaration(v)) = &s.init {
                add_variables(v, names);
            }
            scan_statement(&s.body, names);
        }
        Statement::ForInStatement(s) => {
            if let oxc::ast::ast::ForStatementLeft::VariableDeclaration(v) = &s.left {
                add_variables(v, names);
            }
            scan_statement(&s.body, names);
        }
        Statement::ForOfStatement(s) => {
            if let oxc::ast::ast::ForStatementLeft::VariableDeclaration(v) = &s.left {
                add_variables(v, names);
            }
            scan_statement(&s.body, names);
        }
        Statement::WhileStatement(s) => scan_statement(&s.body, names),
        Statement::DoWhileStatement(s) => scan_statement(&s.body, names),
        Statement::LabeledStatement(s) => scan_statement(&s.body, names),
        Statement::WithStatement(s) => scan_statement(&s.body, names),
        Statement::SwitchStatement(s) => {
            for case in &s.cases {
                scan_statements(&case.consequent, names);
            }
        }
        Statement::TryStatement(s) => {
            scan_statements(&s.block.body, names);
            if let Some(handler) = &s.handler
                && let Some(param) = &handler.param
                && let BindingPattern::BindingIdentifier(id) = &param.pattern
            {
                // The catch body is hoisted, minus any re-declaration of the parameter.
                let name = id.name.as_str();
                let had = names.contains(name);
                scan_statements(&handler.body.body, names);
                if !had {
                    names.remove(name);
                }
            }
            if let Some(finalizer) = &s.finalizer {
                scan_statements(&finalizer.body, names);
            }
        }
        Statement::VariableDeclaration(v) => add_variables(v, names),
        Statement::FunctionDeclaration(function) => {
            if let Some(id) = &function.id {
                names.insert(id.name.as_str());
            }
        }
        Statement::ClassDeclaration(class) => add_class(class, names),
        _ => {
            if let Some(module) = statement.as_module_declaration() {
                scan_module_declaration(module, names);
            }
        }
    }
}

fn scan_module_declaration<'a>(module: &'a ModuleDeclaration<'a>, names: &mut Names<'a>) {
    match module {
        ModuleDeclaration::ImportDeclaration(import) => {
            for specifier in import.specifiers.iter().flatten() {
                let local = match specifier {
                    ImportDeclarationSpecifier::ImportSpecifier(s) => &s.local,
                    ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => &s.local,
                    ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => &s.local,
                };
                names.insert(local.name.as_str());
            }
        }
        ModuleDeclaration::ExportDeclaration(export) => add_declaration(&export.declaration, names),
        ModuleDeclaration::ExportDefaultDeclaration(export) => match &export.declaration {
            ExportDefaultDeclarationKind::FunctionDeclaration(function) => {
                if let Some(id) = &function.id {
                    names.insert(id.name.as_str());
                }
            }
            ExportDefaultDeclarationKind::ClassDeclaration(class) => add_class(class, names),
            _ => {}
        },
        _ => {}
    }
}
