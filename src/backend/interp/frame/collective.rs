//! `allreduce` in place on the interpreter: when nothing but the
//! `allreduce` reads its input (a gradient in `minimize`), the input's
//! buffer is taken from the memo and reduced there, so no gradient is
//! copied (`docs/distributed.md`).

use super::Frame;
use crate::diag::Diag;
use crate::ir::{AllreduceOp, NodeId, Tensor};
use crate::kernels::collective::allreduce_tensor;
use crate::kernels::eval::{eval_pure, internal};
use std::sync::Arc;

impl Frame<'_, '_> {
    /// `allreduce` `id`, whose input only it reads: in the input's buffer
    /// when the memo holds the only reference to it (an input still shared,
    /// a constant or a region's parameter, is reduced on a copy).
    pub(super) fn allreduce_owned(
        &mut self,
        id: NodeId,
        op: AllreduceOp,
    ) -> Result<Arc<Tensor>, Diag> {
        let node = self.graph.node(id);
        let input = node.inputs[0];
        let slot = &mut self.memo[input.index()];
        let taken = slot.take().map(Arc::try_unwrap);
        let mut tensor = match taken {
            Some(Ok(tensor)) => tensor.into_standard_layout(),
            Some(Err(shared)) => {
                *slot = Some(shared);
                let value = self.input(id, 0)?;
                return Ok(Arc::new(eval_pure(node, &[&value])?));
            }
            None => {
                return Err(internal(
                    node,
                    format!("input 0 ({input}) was not computed"),
                ))
            }
        };
        allreduce_tensor(&mut tensor, op).map_err(|m| internal(node, m))?;
        Ok(Arc::new(tensor))
    }
}
