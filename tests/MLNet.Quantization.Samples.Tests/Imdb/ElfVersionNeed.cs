using System.Text;

namespace MLNet.Quantization.Tests.Imdb;

/// <summary>An independent reader of one version need in an ELF64 file's .gnu.version_r, to check the build's marking.</summary>
internal static class ElfVersionNeed
{
    public enum State { Absent, Strong, Weak }

    public static State Read(byte[] elf, string version)
    {
        Assert.True(elf.Length > 64 && elf[0] == 0x7f && elf[1] == 'E' && elf[4] == 2 && elf[5] == 1, "a little-endian ELF64 file");
        long headers = (long)BitConverter.ToUInt64(elf, 0x28);
        int size = BitConverter.ToUInt16(elf, 0x3A), count = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < count; s++)
        {
            int header = (int)(headers + (long)s * size);
            if (BitConverter.ToUInt32(elf, header + 4) != 0x6ffffffe) continue;
            int strings = (int)BitConverter.ToUInt64(elf, (int)(headers + BitConverter.ToUInt32(elf, header + 0x28) * size) + 0x18);
            int need = (int)BitConverter.ToUInt64(elf, header + 0x18);
            for (uint n = 0, needs = BitConverter.ToUInt32(elf, header + 0x2C); n < needs; n++)
            {
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < BitConverter.ToUInt16(elf, need + 2); a++)
                {
                    int name = strings + (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (Encoding.ASCII.GetString(elf, name, Array.IndexOf(elf, (byte)0, name) - name) == version)
                        return (BitConverter.ToUInt16(elf, aux + 4) & 2) != 0 ? State.Weak : State.Strong;
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return State.Absent;
    }
}
