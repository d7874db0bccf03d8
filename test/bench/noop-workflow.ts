/** The baseline: what a workflow costs on this Temporal server when it does nothing. */
export async function noop(): Promise<void> {}
