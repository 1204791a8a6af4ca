//! What the `parley` binary shares with its own end-to-end tests: the fault
//! proxy that `bench federation` and the federation tests put between nodes.

pub mod fault_proxy;
