package io.scoreflow.coordinator.ckpt;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.io.InputStream;

/**
 * A gRPC service whose methods answer bytes that are no request of theirs with INVALID_ARGUMENT.
 *
 * <p>Left alone, gRPC's protobuf marshaller throws on such bytes, and the server turns any throw
 * from decoding into UNKNOWN "Application error processing RPC": the client cannot tell its own
 * mistake from a bug of the server. Here decoding never throws: it yields {@link Malformed}, and
 * the call is closed with a status that says what was wrong before the service sees anything.
 */
final class StrictRequests {

  private StrictRequests() {}

  /** What a request's bytes decoded to when they are none. */
  private record Malformed(String method) {}

  static ServerServiceDefinition of(ServerServiceDefinition service) {
    ServerServiceDefinition.Builder strict =
        ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      strict.addMethod(strict(method));
    }
    return strict.build();
  }

  private static <Q, A> ServerMethodDefinition<Object, A> strict(
      ServerMethodDefinition<Q, A> method) {
    MethodDescriptor<Q, A> descriptor = method.getMethodDescriptor();
    MethodDescriptor.Marshaller<Q> lenient = descriptor.getRequestMarshaller();
    MethodDescriptor.Marshaller<Object> tolerant =
        new MethodDescriptor.Marshaller<>() {
          @SuppressWarnings("unchecked")
          @Override
          public InputStream stream(Object value) {
            return lenient.stream((Q) value);
          }

          @Override
          public Object parse(InputStream stream) {
            try {
              return lenient.parse(stream);
            } catch (RuntimeException e) {
              return new Malformed(descriptor.getBareMethodName());
            }
          }
        };
    return ServerMethodDefinition.create(
        descriptor.toBuilder(tolerant, descriptor.getResponseMarshaller()).build(),
        refusingMalformed(method.getServerCallHandler()));
  }

  private static <Q, A> ServerCallHandler<Object, A> refusingMalformed(
      ServerCallHandler<Q, A> handler) {
    return new ServerCallHandler<>() {
      @Override
      @SuppressWarnings("unchecked")
      public ServerCall.Listener<Object> startCall(ServerCall<Object, A> call, Metadata headers) {
        // The service's handler never looks at the request type of the call it is given (only at
        // whether the method is unary or streaming), so the call passes through as it is.
        ServerCall.Listener<Q> service =
            handler.startCall((ServerCall<Q, A>) (ServerCall<?, A>) call, headers);
        return new ServerCall.Listener<>() {
          private boolean refused;

          @Override
          public void onMessage(Object message) {
            if (refused) {
              return;
            }
            if (message instanceof Malformed m) {
              refused = true;
              call.close(
                  Status.INVALID_ARGUMENT.withDescription(
                      "malformed " + m.method() + " request: not a protobuf of its type"),
                  new Metadata());
              return;
            }
            service.onMessage((Q) message);
          }

          @Override
          public void onHalfClose() {
            // After a refusal the service saw no request: told of a half-close it would close
            // the call a second time for lack of one.
            if (!refused) {
              service.onHalfClose();
            }
          }

          @Override
          public void onCancel() {
            service.onCancel();
          }

          @Override
          public void onComplete() {
            service.onComplete();
          }

          @Override
          public void onReady() {
            if (!refused) {
              service.onReady();
            }
          }
        };
      }
    };
  }
}
