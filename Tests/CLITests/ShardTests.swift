import AuditEngine
import Foundation
import Testing

/// Shards encode their share into their own cache; a final run over the shard
/// caches encodes nothing and writes the same report as one process.
@Suite("sharded runs", .serialized)
struct ShardTests {
    @Test("three shard processes at once, then a merge run: the report equals a single-process run's, byte for byte")
    func threeShardsEqualOneProcess() throws {
        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(30)))
        try ws.writeAudit()

        let single = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("single"), "--cache", ws.path("single.sqlite"), "--threads", "1"
        ])
        #expect(single.status == 0, "\(single.stderr)")

        let shards = try (1...3).map { k in
            try CLI.start(["run", ws.audit.path, "--shard", "\(k)/3", "--cache", ws.path("shard-\(k).sqlite"), "--threads", "1"])
        }
        for (k, started) in shards.enumerated() {
            let result = CLI.collect(started)
            #expect(result.status == 0, "shard \(k + 1): \(result.stderr)")
            #expect(result.stderr.contains("shard \(k + 1)/3: 10 image(s) encoded"), "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: ws.path("Reports")), "a shard writes no report")

        let merged = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("merged"), "--cached-only", "--cache", ws.path("merged.sqlite"),
            "--cache", ws.path("shard-1.sqlite"), "--cache", ws.path("shard-2.sqlite"), "--cache", ws.path("shard-3.sqlite"),
            "--threads", "1"
        ])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stderr.contains("0 image(s) encoded, 30 from the cache"), "\(merged.stderr)")
        try expectSameReport(URL(fileURLWithPath: ws.path("single")), URL(fileURLWithPath: ws.path("merged")))

        // `cache merge` consolidates the shard caches into one file that serves the same report.
        let merge = try CLI.run([
            "cache", "merge", ws.path("all.sqlite"), ws.path("shard-1.sqlite"), ws.path("shard-2.sqlite"), ws.path("shard-3.sqlite")
        ])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("30 image"), "\(merge.stdout)")
        let fromMerged = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("from-all"), "--cached-only", "--cache", ws.path("all.sqlite"), "--threads", "1"
        ])
        #expect(fromMerged.status == 0, "\(fromMerged.stderr)")
        try expectSameReport(URL(fileURLWithPath: ws.path("single")), URL(fileURLWithPath: ws.path("from-all")))

        // With a shard missing, --cached-only refuses instead of encoding its share.
        let partial = try CLI.run([
            "run", ws.audit.path, "--output", ws.path("partial"), "--cached-only", "--cache", ws.path("p.sqlite"),
            "--cache", ws.path("shard-1.sqlite"), "--cache", ws.path("shard-3.sqlite")
        ])
        #expect(partial.status != 0)
        #expect(partial.stderr.contains("--cached-only: image"), "\(partial.stderr)")
    }

    @Test("--shard auto takes the share from a Slurm array task or a Kubernetes Indexed Job")
    func shardFromEnvironment() throws {
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "3"]) == Shard(index: 1, count: 3))
        #expect(
            try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"])
                == Shard(index: 3, count: 3))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"], count: 4) == Shard(index: 2, count: 4))
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1", "CLIP_AUDIT_SHARD_COUNT": "2"]) == Shard(index: 2, count: 2))
        #expect(throws: AuditError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"]) }
        #expect(throws: AuditError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "4"], count: 4) }
        #expect(throws: AuditError.self) { try Shard.fromEnvironment([:]) }

        let ws = try Workspace()
        defer { ws.cleanUp() }
        try ws.writeManifest(Workspace.rows(try ws.makeImages(5)))
        try ws.writeAudit()
        let slurm = try CLI.run(
            ["run", ws.audit.path, "--shard", "auto", "--cache", ws.path("a.sqlite")],
            environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"])
        #expect(slurm.status == 0, "\(slurm.stderr)")
        #expect(slurm.stderr.contains("shard 2/2: 2 image(s) encoded"), "\(slurm.stderr)")
        let k8s = try CLI.run(
            ["run", ws.audit.path, "--shard", "auto", "--shard-count", "2", "--cache", ws.path("b.sqlite")],
            environment: ["JOB_COMPLETION_INDEX": "0"])
        #expect(k8s.status == 0, "\(k8s.stderr)")
        #expect(k8s.stderr.contains("shard 1/2: 3 image(s) encoded"), "\(k8s.stderr)")
        let none = try CLI.run(["run", ws.audit.path, "--shard", "auto", "--cache", ws.path("c.sqlite")])
        #expect(none.status != 0)
        #expect(none.stderr.contains("SLURM_ARRAY_TASK_ID"), "\(none.stderr)")
    }
}
