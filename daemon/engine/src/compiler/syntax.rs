//! Syntax OpenFn's compiler refuses although JavaScript allows it. OpenFn parses with acorn
//! but recast re-tokenizes with esprima 4 and walks the tree with ast-types 0.15, so:
//!
//! - BigInt literals, numeric separators, `#private` names and a `#!` line are
//!   "Unexpected token ILLEGAL";
//! - class fields and static blocks are node types ast-types does not know.

use oxc::ast::AstKind;
use oxc::ast::ast::Program;
use oxc::span::{GetSpan, Span};

use super::tree::Tree;

/// A construct OpenFn's compiler rejects, with OpenFn's own wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejected {
    pub message: String,
    pub span: Span,
}

/// The first construct (in OpenFn's order: tokens, then node types) that OpenFn rejects.
pub(crate) fn find_rejected(program: &Program<'_>, tree: &Tree<'_, '_>) -> Option<Rejected> {
    if let Some(hashbang) = &program.hashbang {
        return Some(illegal_token(hashbang.span));
    }
    let mut illegal: Option<Span> = None;
    let mut unknown: Option<Rejected> = None;
    for (_, kind) in tree.all() {
        let bad_token = match kind {
            AstKind::BigIntLiteral(literal) => Some(literal.span),
            AstKind::NumericLiteral(literal) => literal
                .raw
                .is_some_and(|raw| raw.contains('_'))
                .then_some(literal.span),
            AstKind::PrivateIdentifier(private) => Some(private.span),
            _ => None,
        };
        if let Some(span) = bad_token
            && illegal.is_none_or(|first| span.start < first.start)
        {
            illegal = Some(span);
        }
        let unknown_type = match kind {
            AstKind::PropertyDefinition(_) => Some("PropertyDefinition"),
            AstKind::AccessorProperty(_) => Some("AccessorProperty"),
            AstKind::StaticBlock(_) => Some("StaticBlock"),
            AstKind::Decorator(_) => Some("Decorator"),
            _ => None,
        };
        if let Some(name) = unknown_type
            && unknown.is_none()
        {
            unknown = Some(Rejected {
                message: format!("did not recognize object of type \"{name}\""),
                span: kind.span(),
            });
        }
    }
    illegal.map(illegal_token).or(unknown)
}

fn illegal_token(span: Span) -> Rejected {
    Rejected {
        message: "Unexpected token ILLEGAL".to_string(),
        span,
    }
}
