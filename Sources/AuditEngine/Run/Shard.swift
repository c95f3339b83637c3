import Foundation

/// One share of a sharded run: images whose index modulo `count` is `index − 1`.
public struct Shard: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    public init(index: Int, count: Int) { self.index = index; self.count = count }

    /// Parses `K/N` with 1 ≤ K ≤ N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else { return nil }
        self.init(index: k, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard of a cluster array task, from its environment: a Slurm job array
    /// (`SLURM_ARRAY_TASK_ID` counted from `SLURM_ARRAY_TASK_MIN`, default 0, out of
    /// `SLURM_ARRAY_TASK_COUNT`) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, 0-based,
    /// out of `count`, else `CLIP_AUDIT_SHARD_COUNT`). `count` overrides the Slurm count too.
    public static func fromEnvironment(_ environment: [String: String], count: Int? = nil) throws -> Shard {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw AuditError("\(name)=\(text) is not an integer") }
            return value
        }
        let index: Int, total: Int, source: String
        if let task = try number("SLURM_ARRAY_TASK_ID") {
            index = task - (try number("SLURM_ARRAY_TASK_MIN") ?? 0)
            guard let n = try count ?? number("SLURM_ARRAY_TASK_COUNT") else {
                throw AuditError("--shard auto: SLURM_ARRAY_TASK_COUNT is not set; pass --shard-count N")
            }
            total = n
            source = "SLURM_ARRAY_TASK_ID"
        } else if let completion = try number("JOB_COMPLETION_INDEX") {
            index = completion
            guard let n = try count ?? number("CLIP_AUDIT_SHARD_COUNT") else {
                throw AuditError(
                    "--shard auto: JOB_COMPLETION_INDEX is set but not the shard count; pass --shard-count N (the Job's completions) or set CLIP_AUDIT_SHARD_COUNT"
                )
            }
            total = n
            source = "JOB_COMPLETION_INDEX"
        } else {
            throw AuditError(
                "--shard auto: neither SLURM_ARRAY_TASK_ID (Slurm job array) nor JOB_COMPLETION_INDEX (Kubernetes Indexed Job) is set")
        }
        guard total >= 1, index >= 0, index < total else {
            throw AuditError(
                "--shard auto: \(source) gives shard index \(index) (0-based), outside 0..<\(total); array indices must run over 0..N-1 (or MIN..MIN+N-1)"
            )
        }
        return Shard(index: index + 1, count: total)
    }
}
