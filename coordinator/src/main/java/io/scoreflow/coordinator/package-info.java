/** The coordinator node of scoreflow (see DESIGN.md). */
package io.scoreflow.coordinator;
