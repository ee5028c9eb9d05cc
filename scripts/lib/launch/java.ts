/** JVM flags the launchers share (the JVMs themselves run through runCommand / spawnToLog in child.ts). */

/** G1 with a fixed heap, exit on OOM, headless: every long-running JVM here. */
export function jvmFlags (heapMb: number): string[] {
  return ['-XX:+UseG1GC', `-Xms${heapMb}m`, `-Xmx${heapMb}m`, '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true']
}

/** Every jar of a folder on the classpath. */
export function classpath (libs: string): string[] {
  return ['-cp', `${libs}/*`]
}
