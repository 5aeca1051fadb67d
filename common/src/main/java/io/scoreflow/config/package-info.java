/** Loading HOCON configurations: a file or a named preset, user overrides, reference defaults. */
package io.scoreflow.config;
