/**
 * Reading the files a user gives, bounded: every length, count and dimension a file claims is
 * checked against the bytes actually there (and against a cap) before anything is allocated for it,
 * and every violation is one {@link io.scoreflow.files.InvalidFileException} that names the file
 * and the problem. {@link io.scoreflow.files.InputFiles} holds the checks the format readers share;
 * {@link io.scoreflow.files.Safetensors} is the one reader of safetensors files (weights,
 * checkpoints, feature statistics). The readers of data sets are in {@link io.scoreflow.data}.
 */
package io.scoreflow.files;
