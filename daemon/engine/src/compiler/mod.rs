//! OpenFn's job compiler, on oxc: turns a job expression into the ES module OpenFn's
//! runtime executes, applying OpenFn's transforms in OpenFn's order —
//! lazy state (`$`), promise chains (`_defer`), ensure-exports, top-level operations and
//! add-imports — with OpenFn's quirks where they change behaviour.
//!
//! The job is parsed with oxc; transforms are decided on the syntax tree (with a scope
//! model that mirrors the one OpenFn uses) and applied as exact span edits, so untouched
//! code, comments and layout survive and map back to the job through [`SourceMap`].
//!
//! Where OpenFn's compiler hangs or emits broken code, this one refuses with a clear error:
//! a `.then()` chain not hanging off a call (`x.then(f)`), `$` in the arguments of a
//! hand-written `state.f(...)`, `$` in a spread argument. Known small differences: regular
//! expression patterns are not validated at compile time (an invalid one fails when the
//! module loads instead), and `foo()().then(f)` / `op().catch()` are deferred sensibly
//! rather than reproducing OpenFn's malformed output.
//!
//! Checks against OpenFn (see `tests/`): the conformance fixtures' `compiled.js`, 153 edge
//! cases with OpenFn's outputs, and an ignored test that runs OpenFn's and our modules under
//! Node with the real `@openfn/runtime` (`OPENFN_NODE_MODULES=… cargo test -- --ignored`).

mod edits;
mod imports;
mod lazy_state;
mod promises;
mod scopes;
mod source_map;
mod syntax;
mod tree;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use oxc::allocator::Allocator;
use oxc::ast::ast::{
    ArrayExpression, ExportDefaultDeclarationKind, Expression, Program, Statement,
};
use oxc::diagnostics::OxcDiagnostic;
use oxc::parser::{ParseOptions, Parser};
use oxc::semantic::SemanticBuilder;
use oxc::span::{GetSpan, SourceType, Span};

use edits::{Edit, Edits, Piece};
use source_map::{CodeWriter, LineIndex};
use tree::Tree;

pub use source_map::{Operation, SourceMap};

/// What to compile against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileOptions {
    /// Module specifier of the adaptor, e.g. "@openfn/language-common"; None = no adaptor.
    pub adaptor: Option<String>,
    /// Names that adaptor exports (used to decide which identifiers to import). Empty means
    /// unknown: then every undeclared identifier except well-known globals is imported.
    pub adaptor_exports: Vec<String>,
    /// Where each adaptor export lives when the adaptor is split into modules (bolt's
    /// built-in adaptors). `None`: everything comes from `adaptor`, as in OpenFn.
    pub export_modules: Option<ExportModules>,
    /// Names never imported from the adaptor: those the workflow's globals export
    /// (OpenFn's `ignoreImports`), so the globals' values are the ones the job sees.
    pub ignore_imports: Vec<String>,
    /// The step's further adaptors (OpenFn's `-a common -a collections`), in order.
    pub more_adaptors: Vec<AdaptorImports>,
}

/// One adaptor a job may import from (see [`CompileOptions`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdaptorImports {
    pub specifier: String,
    /// Empty: unknown (every undeclared name is imported).
    pub exports: Vec<String>,
    pub export_modules: Option<ExportModules>,
}

/// The modules an adaptor's exports are imported from, instead of the adaptor itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportModules {
    /// Export name → specifier of the module that provides it.
    pub by_name: BTreeMap<String, String>,
    /// The module whose `execute` the job re-exports.
    pub execute: String,
}

/// A compiled job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// An ES module: imports from the adaptor / "@openfn/runtime", body statements,
    /// `export default [ops]`.
    pub code: String,
    /// Maps a (line, column) in `code` (1-based line, 0-based column) to the original
    /// job's position; also lists the operations (`source_map.operations()`).
    pub source_map: SourceMap,
}

/// Why a job does not compile. `column` is 0-based, like OpenFn's `(line:column)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", position_suffix(*.line, *.column))]
pub struct CompileError {
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

fn position_suffix(line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
        (Some(line), None) => format!(" (line {line})"),
        _ => String::new(),
    }
}

impl CompileError {
    fn at(source: &str, message: String, offset: u32) -> Self {
        let (line, column) = LineIndex::new(source).position(offset);
        Self {
            message,
            line: Some(line),
            column: Some(column),
        }
    }

    fn from_diagnostic(source: &str, diagnostic: &OxcDiagnostic) -> Self {
        let message = format!("SyntaxError: {}", diagnostic.message);
        match diagnostic.labels.first() {
            Some(label) => Self::at(source, message, label.offset()),
            None => Self {
                message,
                line: None,
                column: None,
            },
        }
    }

    fn unbound_catch(source: &str, span: Span) -> Self {
        Self::at(
            source,
            "null does not match type Pattern: OpenFn's compiler cannot look up names \
             through a `catch` clause without a binding; write `catch (e)` instead of `catch`"
                .into(),
            span.start,
        )
    }
}

const RUNTIME_IMPORT: &str = "import { defer as _defer } from \"@openfn/runtime\";";

/// The names a workflow's globals module exports (OpenFn's `getExports`): the job compiler
/// leaves them out of adaptor imports.
pub fn globals_exports(source: &str) -> Result<Vec<String>, CompileError> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, SourceType::mjs()).parse();
    if let Some(error) = parsed.diagnostics.errors().next() {
        let mut error = CompileError::from_diagnostic(source, error);
        error.message = format!("[globals] {}", error.message);
        return Err(error);
    }
    Ok(imports::export_names(&parsed.program))
}

/// Whether a job's code compiles, independent of its adaptor (the adaptor only decides
/// which names get imported): the check a save runs before the code can go live.
pub fn check_job(source: &str) -> Result<(), CompileError> {
    compile(source, &CompileOptions::default()).map(|_| ())
}

/// Compiles a job expression the way OpenFn's compiler does.
pub fn compile(source: &str, options: &CompileOptions) -> Result<Compiled, CompileError> {
    let allocator = Allocator::default();
    let parse_options = ParseOptions {
        preserve_parens: false,
        ..ParseOptions::default()
    };
    let parsed = Parser::new(&allocator, source, SourceType::mjs())
        .with_options(parse_options)
        .parse();
    if let Some(error) = parsed.diagnostics.errors().next() {
        return Err(CompileError::from_diagnostic(source, error));
    }
    if parsed.panicked {
        return Err(CompileError {
            message: "SyntaxError: the job could not be parsed".into(),
            line: None,
            column: None,
        });
    }
    let program = &parsed.program;
    let semantic = SemanticBuilder::new()
        .with_build_nodes(true)
        .with_check_syntax_error(true)
        .build(program);
    if let Some(error) = semantic.diagnostics.errors().next() {
        return Err(CompileError::from_diagnostic(source, error));
    }
    let tree = Tree::new(semantic.semantic.nodes());
    if let Some(rejected) = syntax::find_rejected(program, &tree) {
        return Err(CompileError::at(
            source,
            rejected.message,
            rejected.span.start,
        ));
    }
    let scopes = scopes::Scopes::new(&tree);

    let lazy = lazy_state::plan(source, &tree, &scopes)?;
    let promises = promises::plan(source, program, &tree, &lazy)?;
    let layout = Layout::plan(program, &lazy);
    let imports = match &options.adaptor {
        Some(adaptor) if options.more_adaptors.is_empty() => {
            let dangling = imports::dangling_identifiers(&tree, &scopes, &lazy, &promises)
                .map_err(|u| CompileError::unbound_catch(source, u.0))?;
            let names =
                imports::used_exports(&dangling, &options.adaptor_exports, &options.ignore_imports);
            (!names.is_empty()).then(|| {
                imports::header(
                    adaptor,
                    &names,
                    options.export_modules.as_ref(),
                    imports::exports_name(program, "execute"),
                )
            })
        }
        _ if options.adaptor.is_some() || !options.more_adaptors.is_empty() => {
            let dangling = imports::dangling_identifiers(&tree, &scopes, &lazy, &promises)
                .map_err(|u| CompileError::unbound_catch(source, u.0))?;
            let first = options.adaptor.as_ref().map(|specifier| AdaptorImports {
                specifier: specifier.clone(),
                exports: options.adaptor_exports.clone(),
                export_modules: options.export_modules.clone(),
            });
            let adaptors: Vec<&AdaptorImports> =
                first.iter().chain(options.more_adaptors.iter()).collect();
            imports::multi_header(&adaptors, &dangling, &options.ignore_imports)
        }
        _ => None,
    };

    let mut edits = Edits::default();
    edits.extend(lazy.edits);
    edits.extend(promises.edits);
    let (code, mut source_map) = emit(source, &layout, promises.needs_import, imports, &mut edits);
    let index = LineIndex::new(source);
    let operations = layout
        .hoisted
        .iter()
        .zip(1..)
        .map(|(op, order)| {
            let deferred = promises.rewritten.contains(&op.call);
            Operation {
                name: if deferred {
                    Some("_defer".into())
                } else {
                    op.name.clone()
                },
                line: (!deferred).then(|| index.position(op.call.start).0),
                order,
            }
        })
        .collect();
    source_map.set_operations(operations);
    Ok(Compiled { code, source_map })
}

/// A top-level operation call to move into the default export.
struct Hoisted {
    statement: Span,
    call: Span,
    name: Option<String>,
}

/// Where things go at the top level (ensure-exports + top-level-operations).
struct Layout {
    /// Top-level statements (directives included), in source order, and whether each is
    /// block-like (ends with its own `}` that needs no semicolon).
    statements: Vec<(Span, bool)>,
    /// Statements that are import declarations, as a prefix length of `statements`.
    leading_imports: usize,
    hoisted: Vec<Hoisted>,
    target: ExportTarget,
}

enum ExportTarget {
    /// No default export: add `export default [ops]` at the end.
    Synthesized,
    /// The job ends with `export default [...]`: append the operations to it.
    Existing { insert_at: u32, empty: bool },
    /// Some other default export: OpenFn leaves the module alone.
    Untouched,
}

impl Layout {
    fn plan(program: &Program<'_>, lazy: &lazy_state::LazyState) -> Self {
        let mut statements: Vec<(Span, bool)> =
            program.directives.iter().map(|d| (d.span, false)).collect();
        statements.extend(program.body.iter().map(|s| (s.span(), is_block_like(s))));
        let leading_imports = if program.directives.is_empty() {
            program
                .body
                .iter()
                .take_while(|s| matches!(s, Statement::ImportDeclaration(_)))
                .count()
        } else {
            0
        };
        let has_default = program
            .body
            .iter()
            .any(|s| matches!(s, Statement::ExportDefaultDeclaration(_)));
        let target = if !has_default {
            ExportTarget::Synthesized
        } else {
            match program.body.last() {
                Some(Statement::ExportDefaultDeclaration(export)) => match &export.declaration {
                    ExportDefaultDeclarationKind::ArrayExpression(array) => existing_target(array),
                    _ => ExportTarget::Untouched,
                },
                _ => ExportTarget::Untouched,
            }
        };
        let mut hoisted = Vec::new();
        if !matches!(target, ExportTarget::Untouched) {
            for statement in &program.body {
                if let Statement::ExpressionStatement(s) = statement
                    && let Expression::CallExpression(call) = &s.expression
                    && !lazy.is_wrapped(call.span)
                {
                    let name = match &call.callee {
                        Expression::Identifier(id) => Some(id.name.to_string()),
                        _ => None,
                    };
                    hoisted.push(Hoisted {
                        statement: s.span,
                        call: call.span,
                        name,
                    });
                }
            }
        }
        Self {
            statements,
            leading_imports,
            hoisted,
            target,
        }
    }
}

/// Statements that end with their own block: no semicolon needed after them.
fn is_block_like(statement: &Statement<'_>) -> bool {
    match statement {
        Statement::FunctionDeclaration(_)
        | Statement::ClassDeclaration(_)
        | Statement::BlockStatement(_)
        | Statement::IfStatement(_)
        | Statement::ForStatement(_)
        | Statement::ForInStatement(_)
        | Statement::ForOfStatement(_)
        | Statement::WhileStatement(_)
        | Statement::TryStatement(_)
        | Statement::SwitchStatement(_)
        | Statement::LabeledStatement(_)
        | Statement::WithStatement(_) => true,
        Statement::ExportDeclaration(e) => !matches!(
            e.declaration,
            oxc::ast::ast::Declaration::VariableDeclaration(_)
        ),
        Statement::ExportDefaultDeclaration(e) => !e.declaration.is_expression(),
        _ => false,
    }
}

fn existing_target(array: &ArrayExpression<'_>) -> ExportTarget {
    match array.elements.last() {
        Some(last) => ExportTarget::Existing {
            insert_at: last.span().end,
            empty: false,
        },
        None => ExportTarget::Existing {
            insert_at: array.span.start + 1,
            empty: true,
        },
    }
}

/// Writes the compiled module: adaptor import header (two lines), the job's remaining statements (with
/// the runtime import after its leading imports), then the operations.
fn emit(
    source: &str,
    layout: &Layout,
    runtime_import: bool,
    header: Option<String>,
    edits: &mut Edits,
) -> (String, SourceMap) {
    if let ExportTarget::Existing { insert_at, empty } = layout.target {
        let mut pieces = Vec::new();
        for (i, op) in layout.hoisted.iter().enumerate() {
            if i > 0 || !empty {
                pieces.push(Piece::Text(", ".into(), op.call.start));
            }
            pieces.push(Piece::Source(op.call));
        }
        if !pieces.is_empty() {
            edits.push(Edit::new(Span::empty(insert_at), pieces));
        }
    }

    let mut out = CodeWriter::new(source);
    if let Some(header) = header {
        out.insert(&header, None);
    }
    if runtime_import && layout.leading_imports == 0 {
        out.insert(&format!("{RUNTIME_IMPORT}\n"), None);
    }
    let hoisted: Vec<Span> = layout.hoisted.iter().map(|h| h.statement).collect();
    let mut position = 0;
    for (i, (statement, block_like)) in layout.statements.iter().enumerate() {
        edits.render(Span::new(position, statement.start), &mut out);
        position = statement.end;
        if hoisted.contains(statement) {
            continue;
        }
        edits.render(*statement, &mut out);
        // Removing a neighbour must not let this statement run into the next one.
        let text = &source[..statement.end as usize];
        let terminated = text.ends_with(';') || (*block_like && text.ends_with('}'));
        if !terminated {
            out.insert(";", Some(statement.end));
        }
        if runtime_import && layout.leading_imports > 0 && i + 1 == layout.leading_imports {
            out.insert(&format!("\n{RUNTIME_IMPORT}"), Some(statement.end));
        }
    }
    edits.render(Span::new(position, source.len() as u32), &mut out);
    if matches!(layout.target, ExportTarget::Synthesized) {
        if !out.ends_with("\n") && !out.is_empty() {
            out.insert("\n", None);
        }
        out.insert("export default [", None);
        for (i, op) in layout.hoisted.iter().enumerate() {
            if i > 0 {
                out.insert(", ", None);
            }
            edits.render(op.call, &mut out);
        }
        out.insert("];\n", None);
    }
    out.finish()
}
