//! Why a kernel that writes into a caller's buffer did not run: the user's
//! run-time error (a label or an index out of range) or inputs that do not
//! fit the op (a bug of the caller, reported as an internal error).

use crate::diag::Diag;
use crate::ir::Node;

#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// A value of the user's data is out of range; the message names it.
    Data(String),
    /// Inputs, maps or the output do not fit the op.
    Misfit(String),
}

impl Fault {
    /// The diagnostic at `node`: a data fault is the user's error at its span,
    /// a misfit an internal error of `stage` (`"interpreter"`, `"jit"`).
    pub fn at(self, node: &Node, stage: &str) -> Diag {
        match self {
            Fault::Data(m) => Diag::error(m, node.span),
            Fault::Misfit(m) => {
                Diag::internal(stage, format!("{}: {m}", node.op.name()), Some(node.span))
            }
        }
    }
}

impl From<String> for Fault {
    fn from(message: String) -> Fault {
        Fault::Misfit(message)
    }
}
