"""Notes to sound: soundfonts, sound presets, the FluidSynth renderer, the channel strips
and reverb (mixer), loudness measurement and the master bus.
"""
