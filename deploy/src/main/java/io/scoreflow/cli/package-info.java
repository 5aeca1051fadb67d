/** The {@code scoreflow} command line: one picocli command per feature, thin over the libraries. */
package io.scoreflow.cli;
