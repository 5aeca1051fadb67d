package io.scoreflow.ckpt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.scoreflow.coordinator.ckpt.CheckpointServer;
import io.scoreflow.data.DataCursor;
import io.scoreflow.security.GrpcTls;
import io.scoreflow.security.JobCa;
import io.scoreflow.security.NodeIdentity;
import io.scoreflow.security.TlsMaterial;
import io.scoreflow.security.TransportSecurity;
import io.scoreflow.worker.ckpt.CheckpointFetcher;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint service on a real TCP socket over mutual TLS: a worker of the job fetches; a
 * plaintext client, a client of another CA and a node of a role it does not serve are refused, and
 * no refusal names a path of the server.
 */
class CheckpointServiceTlsTest {

  private static final String JOB = "tls-svc";
  private static final JobCa CA = JobCa.create(JOB, Duration.ofDays(1));

  @TempDir Path dir;
  private CheckpointServer server;

  @BeforeEach
  void start() throws Exception {
    try (CheckpointStore store = CheckpointStore.open(dir.resolve("ckpt"))) {
      store.write(
          CheckpointSnapshot.builder()
              .jobId(JOB)
              .step(7)
              .generation(1)
              .config("scoreflow { job.name = tls-svc }")
              .dataCursor(new DataCursor(0, 0))
              .rng(new RngState(1, Map.of()))
              .group("model", List.of(new HostTensor("w", new long[] {3}, new float[] {1, 2, 3})))
              .group("ema", List.of(new HostTensor("w", new long[] {3}, new float[] {1, 2, 3})))
              .build());
    }
    server =
        CheckpointServer.start(
            new InetSocketAddress("127.0.0.1", 0),
            TransportSecurity.mutualTls(TlsMaterial.issue(CA, NodeIdentity.coordinator())),
            JOB,
            dir.resolve("ckpt"));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private CheckpointFetcher.FetchException refusedFetch(ChannelCredentials credentials) {
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port(), credentials).build();
    try {
      return assertThrows(
          CheckpointFetcher.FetchException.class,
          () ->
              new CheckpointFetcher(channel, Duration.ofSeconds(20))
                  .fetch(JOB, 7, dir.resolve("fetched")));
    } finally {
      channel.shutdownNow();
    }
  }

  private static ChannelCredentials as(TlsMaterial client) {
    // Trusts the server (a coordinator of the job's CA), presents whatever the test gives.
    TlsMaterial trust = TlsMaterial.issue(CA, NodeIdentity.worker("trust"));
    return TlsChannelCredentials.newBuilder()
        .keyManager(client.keyManagers())
        .trustManager(trust.trustOnly(NodeIdentity.coordinator()))
        .build();
  }

  @Test
  void aWorkerOfTheJobFetches() throws Exception {
    TransportSecurity worker =
        TransportSecurity.mutualTls(TlsMaterial.issue(CA, NodeIdentity.worker("worker-000")));
    ManagedChannel channel =
        NettyChannelBuilder.forAddress(
                "127.0.0.1", server.port(), GrpcTls.channel(worker, NodeIdentity.coordinator()))
            .build();
    try {
      CompletedCheckpoint got =
          new CheckpointFetcher(channel, Duration.ofSeconds(20))
              .fetch(JOB, 7, dir.resolve("fetched"));
      assertEquals(7, got.step());
      CheckpointFetcher.FetchException missing =
          assertThrows(
              CheckpointFetcher.FetchException.class,
              () ->
                  new CheckpointFetcher(channel, Duration.ofSeconds(20))
                      .fetch(JOB, 99, dir.resolve("fetched")));
      assertEquals(Status.Code.NOT_FOUND, missing.code());
      assertFalse(
          missing.getMessage().contains(dir.toString()),
          "a refusal names a server path: " + missing.getMessage());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void outsidersAreRefused() {
    assertEquals(Status.Code.UNAVAILABLE, refusedFetch(InsecureChannelCredentials.create()).code());
    JobCa stranger = JobCa.create("other", Duration.ofDays(1));
    assertEquals(
        Status.Code.UNAVAILABLE,
        refusedFetch(as(TlsMaterial.issue(stranger, NodeIdentity.worker("worker-000")))).code());
    CheckpointFetcher.FetchException coordinatorRole =
        refusedFetch(as(TlsMaterial.issue(CA, NodeIdentity.coordinator())));
    assertEquals(Status.Code.PERMISSION_DENIED, coordinatorRole.code());
    assertTrue(
        coordinatorRole.getMessage().contains("may not use the checkpoint service"),
        coordinatorRole.getMessage());
  }
}
