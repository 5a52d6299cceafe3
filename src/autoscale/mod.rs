//! Autoscaling, the second feedback loop: the load (`demand`) moves the
//! count (`hpa`, the HorizontalPodAutoscaler controller), and the count moves
//! the fleet (`nodegroup`, cluster-autoscaler's decisions). Pure: the loop
//! hands in the pods and the clock, and keeps the controllers' memory.

pub mod demand;
pub mod hpa;
pub mod metrics;
pub mod nodegroup;
pub mod spec;
pub mod status;

#[cfg(test)]
mod tests;
