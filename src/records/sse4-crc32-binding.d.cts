/** The sse4_crc32 native addon (the crc32 instruction when the CPU has it, else a table), or null when not built. */
declare const binding: {
  hardware_support: boolean;
  sse42_crc(input: Uint8Array, initial: number): number;
  table_crc(input: Uint8Array, initial: number): number;
} | null;
export = binding;
