/** The RocksDB baseline: the same interfaces on the RocksDB JNI that Flink ships. */
package org.pdpm.baseline;
