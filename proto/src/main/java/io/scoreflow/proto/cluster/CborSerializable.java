package io.scoreflow.proto.cluster;

/**
 * Marks a message that travels between cluster nodes; {@code scoreflow-node.conf} binds it to
 * Pekko's Jackson CBOR serializer. Every record sent between a coordinator and a worker implements
 * it, and nothing else does: gradients and checkpoints never travel as actor messages.
 */
public interface CborSerializable {}
