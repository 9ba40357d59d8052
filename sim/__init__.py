"""xdecimate.sim"""
