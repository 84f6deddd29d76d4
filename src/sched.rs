//! How the process's helper threads ask the scheduler to treat them.

/// Marks the calling thread `SCHED_BATCH` (Linux): when something wakes it — a reply to write, a
/// request to serve — it waits for the running thread's turn to end instead of preempting it. The
/// engine's request loop runs on one thread; on a machine where its state writer and the built-in
/// target share its cores, each of their wake-ups used to interrupt it (see BENCHMARKS.md,
/// section "History: the sixth session's figures", the request loop). A batch thread
/// still gets its fair share of CPU. Best effort: where the policy cannot be set, the thread
/// keeps the default one.
pub fn step_aside_on_wakeup() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadPriorityOsValue,
            ThreadSchedulePolicy, set_thread_priority_and_policy, thread_native_id,
        };
        let _ = set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Os(ThreadPriorityOsValue::default()),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
        );
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn a_thread_that_steps_aside_is_a_batch_thread() {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, thread_schedule_policy,
        };
        let policy = std::thread::spawn(|| {
            super::step_aside_on_wakeup();
            thread_schedule_policy().ok()
        })
        .join()
        .ok()
        .flatten();
        assert_eq!(
            policy,
            Some(ThreadSchedulePolicy::Normal(
                NormalThreadSchedulePolicy::Batch
            ))
        );
    }
}
