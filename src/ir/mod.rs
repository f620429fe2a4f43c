//! The graph IR: types, tensors, ops, graphs, shape inference, the verifier and the printer.

pub mod data;
pub mod data_files;
pub mod grad_op;
pub mod graph;
pub mod infer;
pub mod init;
pub mod limits;
pub mod module;
pub mod npy;
pub mod op;
mod op_kind;
pub mod philox;
pub mod printer;
pub mod scalar;
pub mod tensor;
pub mod types;
pub mod verify;

pub use graph::{Graph, Node, NodeId};
pub use module::{Module, PlaceholderDecl, RunStmt, VariableDecl};
pub use op::{AllreduceOp, BinaryOp, GradOp, Op, OpKind, RandomKind, ReduceOp, UnaryOp};
pub use tensor::Tensor;
pub use types::{DType, Shape, TensorType};
