/**
 * The {@code scoreflow} command line: {@link io.scoreflow.cli.Main} and what every command shares
 * (JSON output, progress lines, number formats); one sub-package per command group, each thin over
 * the libraries: {@code train}, {@code cluster} ({@code coordinator}, {@code worker}, the local
 * cluster of {@code train --workers N}), {@code sample}, {@code eval}, {@code theory} ({@code sde}
 * and {@code theory ...}), {@code bench} and {@code model}.
 */
package io.scoreflow.cli;
