/** The Flink 2.3 keyed state backend that keeps state in a pDPM store (DESIGN §4). */
package org.pdpm.flink;
