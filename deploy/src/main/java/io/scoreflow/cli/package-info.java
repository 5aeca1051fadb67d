/**
 * The {@code scoreflow} command line's root, {@link io.scoreflow.cli.Main} (sub-commands, exit
 * codes, bad input as one line); what every command's output shares is in {@code cli.output}, and
 * each command group has its sub-package, thin over the libraries: {@code train}, {@code cluster}
 * ({@code coordinator}, {@code worker}, the local cluster of {@code train --workers N}), {@code
 * sample}, {@code eval}, {@code theory} ({@code sde} and {@code theory ...}), {@code bench} and
 * {@code model}.
 */
package io.scoreflow.cli;
