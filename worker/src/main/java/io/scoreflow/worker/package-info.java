/** The worker node of scoreflow (see DESIGN.md). */
package io.scoreflow.worker;
