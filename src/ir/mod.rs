//! The graph IR: types, tensors, ops, graphs, shape inference, the verifier and the printer.

pub mod graph;
pub mod infer;
pub mod init;
pub mod limits;
pub mod module;
pub mod npy;
pub mod op;
pub mod printer;
pub mod scalar;
pub mod tensor;
pub mod types;
pub mod verify;

pub use graph::{Graph, Node, NodeId};
pub use module::{Module, PlaceholderDecl, RunStmt, VariableDecl};
pub use op::{AllreduceOp, BinaryOp, GradOp, Op, OpKind, ReduceOp, UnaryOp};
pub use tensor::Tensor;
pub use types::{DType, Shape, TensorType};
