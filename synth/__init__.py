"""xdecimate.synth"""
